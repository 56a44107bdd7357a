package dev.jkvm.vmm.boot;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files the Maven build leaves in other modules, found from a module or the checkout's top (the nested runner runs there). */
public final class BuildOutput {

    private BuildOutput() {
    }

    /** {@code relative} under the first directory up from here that has it; {@code relative} itself when none does. */
    public static Path find(Path relative) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve(relative))) {
                return dir.resolve(relative);
            }
        }
        return relative;
    }

    /** The {@code meminfo} test kernel as the ELF64 its link step wrote, with symbols and debug information. */
    public static Path meminfoElf64() {
        return find(Path.of("guest-images", "target", "obj", "meminfo", "meminfo.elf64"));
    }
}
