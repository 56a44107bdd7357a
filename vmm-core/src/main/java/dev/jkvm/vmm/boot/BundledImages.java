package dev.jkvm.vmm.boot;

import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The names of the guest images bundled with jkvm (module guest-images), read from the class path
 * itself so {@code -h} lists what {@code -bios NAME} and {@code -kernel NAME} really find.
 *
 * <pre>{@code
 * BundledImages.names(".rom");   // [cpuid-exits, debug-exit, hello, ...]
 * }</pre>
 */
public final class BundledImages {

    /** An image every build has: its location names the directory or jar that holds them all. */
    private static final String ANCHOR = RomImage.BUNDLED_PATH + "hello.rom";

    private BundledImages() {
    }

    /** The bundled images whose file name ends with {@code suffix}, without it, sorted; empty when none are found. */
    public static List<String> names(String suffix) {
        URL anchor = BundledImages.class.getResource(ANCHOR);
        if (anchor == null) {
            return List.of();
        }
        TreeSet<String> names = new TreeSet<>();
        String dir = RomImage.BUNDLED_PATH.substring(1);
        try {
            if (anchor.getProtocol().equals("jar")) {
                JarURLConnection c = (JarURLConnection) anchor.openConnection();
                c.setUseCaches(false);
                try (JarFile jar = c.getJarFile()) {
                    jar.stream().map(e -> e.getName())
                            .filter(n -> n.startsWith(dir) && n.indexOf('/', dir.length()) < 0 && n.endsWith(suffix))
                            .forEach(n -> names.add(n.substring(dir.length(), n.length() - suffix.length())));
                }
            } else if (anchor.getProtocol().equals("file")) {
                try (Stream<Path> files = Files.list(Path.of(anchor.toURI()).getParent())) {
                    files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix))
                            .forEach(n -> names.add(n.substring(0, n.length() - suffix.length())));
                }
            }
        } catch (IOException | URISyntaxException | ClassCastException e) {
            return List.of(); // -h still prints; the images themselves report a failure when loaded
        }
        return List.copyOf(names);
    }
}
