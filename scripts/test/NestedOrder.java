import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;

/**
 * ./test's nested path (compiled beside NestedProgress, on the console launcher's class path only):
 * test classes longest first, by the "CLASS SECONDS" lines of the file that configuration parameter
 * {@code jkvm.nested.class-times} names (./test's merged times, which its plan reads too; a class
 * not there counts 30 s, as in the plan). In the launcher's order a 190 s class started last in its
 * VM and ran on alone; JUnit's fork-join executor hands the first classes to the thread that steals
 * and runs the last ones itself, so the longest start at once and the shortest fill in beside them.
 */
public final class NestedOrder implements ClassOrderer {

    private static final double UNKNOWN_SECONDS = 30;

    @Override
    public void orderClasses(ClassOrdererContext context) {
        Map<String, Double> seconds = new HashMap<>();
        context.getConfigurationParameter("jkvm.nested.class-times").ifPresent(f -> read(Path.of(f), seconds));
        context.getClassDescriptors().sort(Comparator.comparingDouble(
                (ClassDescriptor d) -> seconds.getOrDefault(d.getTestClass().getName(), UNKNOWN_SECONDS)).reversed());
    }

    private static void read(Path file, Map<String, Double> seconds) {
        if (!Files.isRegularFile(file)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 2) {
                    try {
                        seconds.put(f[0], Double.parseDouble(f[1]));
                    } catch (NumberFormatException e) {
                        // not a time: a line the plan skips too
                    }
                }
            }
        } catch (IOException e) {
            System.err.println("NestedOrder: cannot read " + file + ": " + e.getMessage());
        }
    }
}
