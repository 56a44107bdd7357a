package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** SIGTERM ends a jkvm process whose guest spins without exits, in an orderly way (as QEMU). */
@RequiresKvm
class SignalTest {

    @Test
    void sigtermEndsASpinningGuest() throws Exception {
        Process p = new ProcessBuilder(JkvmJvm.command(List.of(), "-bios", "spin", "-stats"))
                .redirectErrorStream(false).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("spinning", out.readLine().strip());
        p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its pipes)
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "jkvm did not end after SIGTERM");
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), err);
        assertTrue(err.contains("jkvm: terminating on signal 15"), err);
        assertTrue(err.contains("CPU 0/KVM (vCPU 0"), err); // -stats still printed on the way out
    }
}
