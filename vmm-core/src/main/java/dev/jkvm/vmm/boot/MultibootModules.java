package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.JkvmException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's Multiboot reading of {@code -initrd}: a comma-separated list of modules (",," stands for
 * a comma), each {@code "path args..."}: the path is up to the first space, and the whole text,
 * path included, becomes the module's command line.
 *
 * <pre>{@code
 * List<MultibootModules.Module> mods = MultibootModules.parse("mod1 arg1 arg2,mod2");
 * // mod1 with command line "mod1 arg1 arg2", mod2 with "mod2"
 * }</pre>
 */
final class MultibootModules {

    /** One module: the file and its command line. */
    record Module(Path path, String commandLine) {
    }

    private MultibootModules() {
    }

    /** The modules of {@code initrd} (null or empty: none). */
    static List<Module> parse(String initrd) {
        List<Module> out = new ArrayList<>();
        if (initrd == null || initrd.isEmpty()) {
            return out;
        }
        StringBuilder current = new StringBuilder();
        for (int i = 0; i <= initrd.length(); i++) {
            boolean end = i == initrd.length();
            char c = end ? ',' : initrd.charAt(i);
            if (c == ',' && !end && i + 1 < initrd.length() && initrd.charAt(i + 1) == ',') {
                current.append(',');
                i++;
            } else if (c == ',') {
                out.add(module(current.toString(), initrd));
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        return out;
    }

    private static Module module(String text, String whole) {
        String path = text.split(" ", 2)[0];
        if (path.isEmpty()) {
            throw new JkvmException("-initrd " + whole + ": a module with no file name");
        }
        return new Module(Path.of(path), text);
    }
}
