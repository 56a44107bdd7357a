package dev.jkvm.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.devices.PortIoDevice;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The extension, used the way a project that depends on jkvm-junit uses it. */
class GuestExtensionTest {

    @Test
    @Guest(bios = "debug-exit", timeout = "10s")
    void aFinishedGuestIsInjected(RunResult r) {
        assertEquals(RunResult.Reason.DEBUG_EXIT, r.reason());
        assertEquals(0x2a, r.debugExitValue());
        assertEquals("exiting with 0x2a\r\n", r.serial());
    }

    @Test
    @Guest(bios = "spin")
    void aStartedMachineIsInjected(Machine m) throws InterruptedException {
        assertTrue(m.serial().awaitLine(Pattern.compile("spinning"), Duration.ofSeconds(10)).isPresent());
        assertEquals(false, m.ended()); // still spinning: closed by the extension after the test
    }

    @Test
    @Guest(bios = "hello", memory = "64M", smp = "2")
    void theConfigIsTheCommandLinesConfig(MachineConfig c) {
        assertEquals(64L << 20, c.memoryBytes());
        assertEquals(2, c.topology().cpus());
    }

    @Test
    @Guest(kernel = "cpuinfo", smp = "4", timeout = "120s")
    void theKernelsVariablesAreReadByName(Machine m, RunResult r) {
        assertEquals(RunResult.Reason.DEBUG_EXIT, r.reason(), r.message());
        assertEquals(3, m.readSymbolValue("ap_finished"), "the guest's own count of application processors");
        assertEquals(4, r.serial().lines().filter(l -> l.startsWith("cpu apic=")).count(), r.serial());
    }

    @GuestTest(smp = {"1", "2"}, cpu = {"qemu64", "kvm64"})
    @Guest(bios = "hello")
    void everyCombinationBoots(RunResult r, MachineConfig c) {
        assertEquals(RunResult.Reason.HALTED, r.reason(), r.message());
        assertEquals("Hello from the guest\r\n", r.serial());
        assertEquals(r.vcpus().size(), c.topology().cpus());
    }

    /** A driver in a test guest, against a device written here in the test: no rebuild of jkvm. */
    @Test
    @Guest(bios = "port-driver", timeout = "10s")
    void aGuestDriverTalksToADeviceDefinedInTheTest(@NotStarted Machine m) {
        List<Integer> commands = new ArrayList<>();
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
                    commands.add(value);
                    result = value & 0x7f; // the "device" answers the low 7 bits of the command
                }
            }
        });
        RunResult r = m.run(Duration.ofSeconds(10));
        assertEquals(List.of(0x1234), commands);
        assertEquals(0x34, r.debugExitValue());
        assertEquals("driver: result 34\r\n", r.serial());
    }
}
