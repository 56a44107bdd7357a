package demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.devices.PortIoDevice;
import dev.jkvm.junit.Guest;
import dev.jkvm.junit.NotStarted;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.RunResult;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class OwnDeviceTest {

    /**
     * The bundled port-driver ROM reads an ID at port 0x300, writes ID + 1 to 0x302 and exits with
     * what 0x301 then reads: the device it drives is this test's own.
     */
    @Test
    @Guest(bios = "port-driver", timeout = "10s")
    void theDriverTalksToMyDevice(@NotStarted Machine m) {
        m.ports().register(0x300, 4, new PortIoDevice() {
            private int result;

            @Override
            public int read(int offset, int size) {
                return switch (offset) {
                    case 0 -> 0x1233;   // ID register
                    case 1 -> result;   // result register
                    default -> 0xff;
                };
            }

            @Override
            public void write(int offset, int size, int value) {
                if (offset == 2) {
                    result = value & 0x7f; // the "device" answers the low 7 bits of the command
                }
            }
        });
        RunResult r = m.run(Duration.ofSeconds(10));
        assertEquals(0x34, r.debugExitValue(), r.serial());
        assertEquals("driver: result 34\r\n", r.serial());
    }
}
