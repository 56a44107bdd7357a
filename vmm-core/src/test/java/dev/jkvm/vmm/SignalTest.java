package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** SIGTERM ends a jkvm process whose guest spins without exits, in an orderly way (as QEMU). */
@RequiresKvm
class SignalTest {

    /**
     * jkvm's own class path, from where its classes were loaded (java.class.path may be a test
     * launcher's jar alone): vmm-core, kvm-bindings, devices and the guest images.
     */
    static String jkvmClassPath() throws Exception {
        java.util.LinkedHashSet<String> entries = new java.util.LinkedHashSet<>();
        for (Class<?> c : List.of(Main.class, dev.jkvm.kvm.Kvm.class, dev.jkvm.devices.PortBus.class)) {
            entries.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        java.net.URL rom = Main.class.getResource("/dev/jkvm/guest/spin.rom");
        String url = rom.toString();
        if (url.startsWith("jar:file:")) {
            entries.add(Path.of(java.net.URI.create(url.substring(4, url.indexOf("!/")))).toString());
        } else {
            entries.add(Path.of(rom.toURI()).getParent().getParent().getParent().getParent().toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    @Test
    void sigtermEndsASpinningGuest() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                jkvmClassPath(), Main.class.getName(), "-bios", "spin", "-stats"))
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
