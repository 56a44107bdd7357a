package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * JDK 25's AOT cache keeps a lambda only if its interface needs no static initializer run when an
 * implementing class initializes: an interface with a default method and a {@code <clinit>} (a
 * field set by code, such as a lambda constant) has every lambda of its type spun at run time,
 * ~1-2 ms each at a tiny guest's start (issue #20; the training's log says "Cannot aot-resolve
 * Lambda proxy of interface type"). IrqLine was one. Read from jkvm's own class files.
 */
class AotCacheableInterfacesTest {

    @Test
    void noInterfaceOfJkvmHasBothADefaultMethodAndAStaticInitializer() throws Exception {
        List<String> offenders = new ArrayList<>();
        int interfaces = 0;
        for (String entry : JkvmJvm.jkvmClassPath().split(File.pathSeparator)) {
            for (String name : classNames(Path.of(entry))) {
                Class<?> c = Class.forName(name, false, getClass().getClassLoader());
                if (!c.isInterface() || c.isAnnotation()) {
                    continue;
                }
                interfaces++;
                boolean hasDefault = Arrays.stream(c.getDeclaredMethods()).anyMatch(Method::isDefault);
                if (hasDefault && hasStaticInitializer(c)) {
                    offenders.add(name);
                }
            }
        }
        assertTrue(interfaces > 20, "the scan saw jkvm's interfaces: " + interfaces);
        assertEquals(List.of(), offenders, "interfaces whose lambdas the AOT cache cannot keep");
    }

    /** Whether the class file names {@code <clinit>}: a method of that name is its only use. */
    private static boolean hasStaticInitializer(Class<?> c) throws Exception {
        try (InputStream in = c.getResourceAsStream(binaryFile(c))) {
            byte[] bytes = in.readAllBytes();
            return new String(bytes, StandardCharsets.ISO_8859_1).contains("<clinit>");
        }
    }

    private static String binaryFile(Class<?> c) {
        String n = c.getName();
        return n.substring(n.lastIndexOf('.') + 1) + ".class";
    }

    /** The dev.jkvm classes of a jar or class folder. */
    private static List<String> classNames(Path entry) throws Exception {
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(entry)) {
            try (Stream<Path> files = Files.walk(entry)) {
                files.map(entry::relativize).map(Path::toString).forEach(f -> addClass(names, f));
            }
        } else {
            try (ZipFile jar = new ZipFile(entry.toFile())) {
                jar.stream().forEach(e -> addClass(names, e.getName()));
            }
        }
        return names;
    }

    private static void addClass(List<String> names, String file) {
        if (file.startsWith("dev/jkvm/") && file.endsWith(".class") && !file.contains("-")) {
            names.add(file.substring(0, file.length() - ".class".length()).replace('/', '.'));
        }
    }
}
