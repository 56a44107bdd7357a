package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Counts whose product overflows 64 bits are refused with QEMU's topology message, not an ArithmeticException. */
class SmpOverflowTest {

    @Test
    void huge32BitCountsAreRefusedWithTheProductMessage() {
        CpuConfigException e = assertThrows(CpuConfigException.class,
                () -> SmpOption.parse("cpus=4,sockets=0x80000000,dies=0x80000000,threads=4"));
        assertEquals("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2147483648) * dies "
                + "(2147483648) * cores (0) * threads (4) != maxcpus (4)", e.getMessage());
        for (String line : new String[] {"4,sockets=0xffffffff,dies=0xffffffff,cores=0xffffffff,threads=0xffffffff",
                "maxcpus=0xffffffff,sockets=0xffffffff,dies=0xffffffff", "threads=0xffffffff,cores=0xffffffff,dies=0xffffffff,sockets=2"}) {
            assertThrows(CpuConfigException.class, () -> SmpOption.parse(line), line);
        }
    }
}
