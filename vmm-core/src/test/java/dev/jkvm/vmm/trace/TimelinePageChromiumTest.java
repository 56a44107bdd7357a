package dev.jkvm.vmm.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.KvmCondition;
import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.SerialBackend;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code -exit-trace FILE.html} page of a real port-exits run, opened in headless Chromium
 * (scripts/lib/test-deps.sh installs it): it renders without a console error, and the screenshot
 * shows all three modes in their colours.
 *
 * <p>Chromium runs on this host, always: inside scripts/in-vm (TCG) one Chromium run took over
 * 300 s, here 3-5 s. The guest runs where KVM is: in this JVM where {@code /dev/kvm} is usable;
 * otherwise (or with {@code JKVM_TEST_FORCE_NESTED=1}, as ./test's nested path) jkvm runs inside
 * {@code scripts/in-vm} and writes the page into the checkout, which the VM shares. So the test
 * carries no {@code kvm} tag: ./test's nested path runs it on the host.
 */
class TimelinePageChromiumTest {

    /** "Does not hang" guard: Chromium's start is slow on a busy host, and slower in the nested VM. */
    private static final long HANG_GUARD_SECONDS = 300;
    private static final int WIDTH = 1400;
    private static final int HEIGHT = 800;

    @TempDir
    Path dir;

    @Test
    void thePageOfAPortExitsRunRendersAllThreeModes() throws Exception {
        Path page = portExitsPage();
        Path shot = dir.resolve("shot.png");
        // One Chromium run takes the screenshot and dumps the DOM (its headless mode does both, in
        // that order): its start is most of the time, minutes of it inside scripts/in-vm.
        Result dom = chromium(page, "--screenshot=" + shot, "--dump-dom");
        assertEquals(List.of(), dom.consoleLines(), "console messages while rendering:\n" + dom.log());
        assertTrue(dom.out().contains("data-status=\"rendered\""), "the page's script ran to its end:\n"
                + dom.out().substring(0, Math.min(2000, dom.out().length())));
        assertTrue(dom.out().contains("<div id=\"error\" hidden=\"\"></div>"), "no error shown on the page");
        assertTrue(dom.out().contains("jkvm: port-exits \u2014 exit trace"), "the process name is the title");

        assertTrue(Files.size(shot) > 10_000, "a screenshot that is not empty: " + Files.size(shot) + " bytes");
        BufferedImage img = ImageIO.read(shot.toFile());
        assertNotNull(img, "a PNG");
        assertEquals(WIDTH, img.getWidth());
        long guest = pixels(img, 0x2f9e5b);
        long kernel = pixels(img, 0xe39b2d);
        long user = pixels(img, 0x3766d1);
        // Beyond the legend's 12x12 swatch of each colour: the chart drew each mode. Kernel mode is
        // thin where the page comes from the nested VM (its KVM emulates little): 444 pixels there.
        int swatch = 12 * 12;
        assertTrue(guest > 2000 && kernel > swatch + 100 && user > swatch + 100,
                "guest, kernel and user mode drawn: " + guest + ", " + kernel + ", " + user + " pixels");
    }

    /** The page of a real port-exits run: in this JVM where KVM is usable, else by jkvm inside scripts/in-vm. */
    private Path portExitsPage() throws Exception {
        if (KvmCondition.kvmUsable() && System.getenv("JKVM_TEST_FORCE_NESTED") == null) {
            Path page = dir.resolve("port-exits.html");
            try (Machine m = Machine.create(MachineConfig.builder().firmware(BiosRom.bundled("port-exits"))
                    .serial(SerialBackend.none()).timeout(Duration.ofSeconds(60)).exitTrace(TraceSpec.of(page)).build())) {
                assertEquals(33, m.run().exitStatus());
            }
            return page;
        }
        Path top = checkoutTop();
        // In the checkout: the VM shares it writable (its /tmp is its own).
        Path shared = Files.createTempDirectory(Files.createDirectories(top.resolve("target")), "timeline-page-");
        Path page = shared.resolve("port-exits.html");
        List<String> cp = new ArrayList<>();
        for (Class<?> c : List.of(dev.jkvm.vmm.Main.class, dev.jkvm.kvm.Kvm.class, dev.jkvm.devices.PortBus.class)) {
            cp.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        String rom = BiosRom.class.getResource("/dev/jkvm/guest/port-exits.rom").toString();
        cp.add(rom.startsWith("jar:file:") ? Path.of(java.net.URI.create(rom.substring(4, rom.indexOf("!/")))).toString()
                : Path.of(java.net.URI.create(rom)).getParent().getParent().getParent().getParent().toString());
        Path log = shared.resolve("in-vm.log");
        Process p = new ProcessBuilder(top.resolve("scripts/in-vm").toString(), "--timeout", Long.toString(HANG_GUARD_SECONDS),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-cp", String.join(File.pathSeparator, cp), "dev.jkvm.vmm.Main",
                "-bios", "port-exits", "-serial", "none", "-exit-trace", page.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        if (!p.waitFor(HANG_GUARD_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError("scripts/in-vm did not end: " + Files.readString(log));
        }
        assertEquals(33, p.exitValue(), "jkvm -bios port-exits inside scripts/in-vm: " + Files.readString(log));
        Path mine = dir.resolve("port-exits.html");
        Files.move(page, mine);
        Files.delete(log);
        Files.delete(shared);
        return mine;
    }

    private static Path checkoutTop() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isExecutable(p.resolve("scripts/in-vm"))) {
                return p;
            }
        }
        throw new AssertionError("scripts/in-vm not found above " + System.getProperty("user.dir"));
    }

    /** What one Chromium run printed. */
    record Result(String out, String log) {
        /** The page's console messages (Chromium logs them as CONSOLE lines with --enable-logging). */
        List<String> consoleLines() {
            List<String> out = new ArrayList<>();
            for (String l : log.lines().toList()) {
                if (l.contains(":CONSOLE") || l.contains("Uncaught")) {
                    out.add(l);
                }
            }
            return out;
        }
    }

    private Result chromium(Path page, String... actions) throws IOException, InterruptedException {
        Path exe = findChromium();
        assertNotNull(exe, "chromium is not installed: scripts/lib/test-deps.sh installs it (apt-get install chromium)");
        List<String> argv = new ArrayList<>(List.of(exe.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=" + dir.resolve("profile"), "--hide-scrollbars", "--window-size=" + WIDTH + "," + HEIGHT,
                "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0"));
        argv.addAll(List.of(actions));
        argv.add(page.toUri().toString());
        File out = dir.resolve("out.txt").toFile();
        File err = dir.resolve("err.txt").toFile();
        Process p = new ProcessBuilder(argv).redirectOutput(out).redirectError(err).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        if (!p.waitFor(HANG_GUARD_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish in " + HANG_GUARD_SECONDS + " s");
        }
        String log = Files.readString(err.toPath(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "chromium's status:\n" + log);
        return new Result(Files.readString(out.toPath(), StandardCharsets.UTF_8), log);
    }

    static Path findChromium() {
        for (String dirName : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path p = Path.of(dirName, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    private static long pixels(BufferedImage img, int rgb) {
        long n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                if (Math.abs((p >> 16 & 0xff) - (rgb >> 16 & 0xff)) < 8 && Math.abs((p >> 8 & 0xff) - (rgb >> 8 & 0xff)) < 8
                        && Math.abs((p & 0xff) - (rgb & 0xff)) < 8) {
                    n++;
                }
            }
        }
        return n;
    }
}
