package dev.jkvm.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Whole processes, timed by the C baseline's {@code spawn} (fork, exec, wait4: wall time and peak
 * RSS of the process): jkvm through its launcher (so its JVM flags and AOT cache are used), and
 * QEMU when it is installed. The debug-exit ROM ends both by itself ({@code isa-debug-exit}, status
 * 85); the hello ROM halts with interrupts off, which ends jkvm but not QEMU.
 *
 * <pre>{@code
 * List<String> cmd = EndToEnd.jkvm(Path.of("./jkvm"), rom);
 * CBaseline.Spawned s = c.spawn(cmd);
 * }</pre>
 */
public final class EndToEnd {

    /** What the debug-exit ROM's write of 0x2a makes both VMMs exit with. */
    public static final int DEBUG_EXIT_STATUS = 85;

    private EndToEnd() {
    }

    /** {@code ./jkvm -bios ROM}. */
    public static List<String> jkvm(Path launcher, Path rom) {
        return List.of(launcher.toString(), "-bios", rom.toString());
    }

    /** QEMU with KVM, no default devices or display, COM1 on standard output, isa-debug-exit at 0xf4. */
    public static List<String> qemu(Path qemu, Path rom) {
        return List.of(qemu.toString(), "-accel", "kvm", "-machine", "pc", "-m", "128M", "-nodefaults", "-no-user-config",
                "-display", "none", "-serial", "stdio", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-bios", rom.toString());
    }

    /** {@code ./jkvm -kernel KERNEL} with a harness's devices: a Multiboot test kernel's whole run. */
    public static List<String> jkvmKernel(Path launcher, Path kernel) {
        return List.of(launcher.toString(), "-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-serial", "stdio", "-kernel", kernel.toString());
    }

    /** QEMU booting the same kernel: its firmware (SeaBIOS and the multiboot option ROM) loads it. */
    public static List<String> qemuKernel(Path qemu, Path kernel) {
        return List.of(qemu.toString(), "-accel", "kvm", "-machine", "pc", "-m", "128M", "-nodefaults", "-no-user-config",
                "-display", "none", "-serial", "stdio", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", kernel.toString());
    }

    /** mb-exit's status: it writes 0x10 to isa-debug-exit. */
    public static final int MB_EXIT_STATUS = 33;

    /** qemu-system-x86_64 on the PATH, if installed. */
    public static Optional<Path> findQemu() {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "qemu-system-x86_64");
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
