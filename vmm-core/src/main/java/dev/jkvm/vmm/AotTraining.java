package dev.jkvm.vmm;

import dev.jkvm.vmm.boot.RomImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The training run of the launcher's AOT cache ({@code -XX:AOTCacheOutput}): the JDK keeps the
 * classes, linked call sites and profiles of what this run executed. It loads every class of the
 * cache at start-up, used or not, so the training is narrow: the default ROM, a ROM file with a
 * harness's options and a Multiboot kernel with them, a tiny guest's paths. Measured: training
 * also 2 vCPUs, 10,000 port exits, -stats and the listings made the cache 1.9 MB larger, and a
 * debug-exit run 2 MB larger in RSS and slower.
 */
public final class AotTraining {

    private AotTraining() {
    }

    /**
     * @param args the folder for the training's ROM and kernel files (the launcher passes its own);
     *     without one, a temporary folder. A named folder keeps SecureRandom and its 60 classes,
     *     which createTempFile needs and a harness's run does not, out of the cache.
     */
    public static void main(String[] args) throws IOException {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("jkvm-aot-training");
        Path rom = dir.resolve("aot-training.rom");
        Path kernel = dir.resolve("aot-training.elf");
        try {
            Files.write(rom, RomImage.bundled("debug-exit").bytes());
            // a file, as harnesses pass: a bundled name is copied out through createTempFile
            try (InputStream in = AotTraining.class.getResourceAsStream(RomImage.BUNDLED_PATH + "mb-exit.elf")) {
                Files.write(kernel, in.readAllBytes());
            }
            // a harness's images are older than a few seconds: RomFiles keeps only those (its
            // path for them is what runs take, and a class the cache lacks costs ~10 ms: the jar)
            FileTime old = FileTime.fromMillis(System.currentTimeMillis() - 3_600_000);
            Files.setLastModifiedTime(rom, old);
            Files.setLastModifiedTime(kernel, old);
            PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
            Main.warmUpInBackground(); // its lambdas too: one not in the cache is spun at start-up
            // ConcurrentHashMap takes a ThreadLocalRandom probe when threads contend on its count,
            // which a slow host makes happen (a run in the nested VM loaded RandomGenerator from
            // the JDK's modules): a few classes, cached rather than read when that happens
            ThreadLocalRandom.current();
            for (List<String> run : runs(rom.toString(), kernel.toString())) {
                Main.run(run.toArray(String[]::new), quiet, quiet);
            }
        } finally {
            Files.deleteIfExists(rom);
            Files.deleteIfExists(kernel);
        }
        // halt, as Main ends: System.exit would put System.Logger's ~20 classes in the cache (the
        // cache is still written: the JVM dumps it on its way out either way)
        Runtime.getRuntime().halt(0);
    }

    /** The command lines the cache is trained on. */
    static List<List<String>> runs(String romFile, String kernelFile) {
        return List.of(
                List.of(),
                List.of("-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "stdio", "-bios", romFile),
                // a Multiboot test kernel's path (the ELF and Multiboot loaders), as harnesses boot them
                List.of("-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "stdio", "-kernel", kernelFile),
                // the longer line of QEMU-driving harnesses (the options' own code, -m's parser)
                List.of("-accel", "kvm", "-machine", "pc", "-m", "128M", "-nodefaults", "-no-user-config", "-display", "none",
                        "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-bios", romFile),
                // the chapter's and harnesses' -smp and a built-in -cpu with switches (the ROM's one
                // vCPU ends the run before any other starts)
                List.of("-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-smp", "2",
                        "-cpu", "Skylake-Client,+ssse3,x2apic=on", "-bios", romFile));
    }
}
