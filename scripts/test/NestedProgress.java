import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * A JUnit Platform listener for ./test's nested path (compiled and put on the class path of the
 * console launcher in scripts/in-vm only): one line per test class as it starts and ends, with its
 * wall time. The console launcher's reports are written at the very end, so a VM run that hits its
 * time limit leaves none; these lines, streamed out of the VM as they happen, still say which
 * classes took how long and which were running when it was cut. ./test reads the "nested: end"
 * lines to balance the next run's classes across its VMs.
 *
 * <pre>
 *   nested: start dev.jkvm.vmm.SoakTest
 *   nested: failed dev.jkvm.vmm.SoakTest aSoak(): expected: <0> but was: <1>
 *   nested: end dev.jkvm.vmm.SoakTest 41.2 s 1 tests 1 failed
 * </pre>
 *
 * A failed test's line comes as it fails, with the first line of its failure (at most 300
 * characters): the launcher's tree with the messages also comes only at its end.
 */
public final class NestedProgress implements TestExecutionListener {

    private record Running(long startNanos, AtomicInteger tests, AtomicInteger failed) {}

    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private volatile TestPlan plan;

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        plan = testPlan;
    }

    @Override
    public void executionStarted(TestIdentifier id) {
        String cls = className(id);
        if (cls != null) {
            running.put(id.getUniqueId(), new Running(System.nanoTime(), new AtomicInteger(), new AtomicInteger()));
            System.out.println("nested: start " + cls);
        }
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        String cls = className(id);
        if (cls != null) {
            Running r = running.remove(id.getUniqueId());
            if (r != null) {
                if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                    r.failed().incrementAndGet(); // the class itself failed (@BeforeAll, ...)
                }
                System.out.printf("nested: end %s %.1f s %d tests %d failed%n", cls, (System.nanoTime() - r.startNanos()) / 1e9,
                        r.tests().get(), r.failed().get());
            }
        } else if (id.isTest()) {
            Running r = enclosingClass(id);
            if (r != null) {
                r.tests().incrementAndGet();
                if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                    r.failed().incrementAndGet();
                }
            }
            if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                String why = result.getThrowable().map(t -> String.valueOf(t.getMessage()).lines().findFirst().orElse(""))
                        .orElse(result.getStatus().toString());
                System.out.println("nested: failed " + classOf(id) + " " + id.getDisplayName() + ": "
                        + (why.length() > 300 ? why.substring(0, 300) + "..." : why));
            }
        }
    }

    /** The innermost class above a test, by name ("?" when none is). */
    private String classOf(TestIdentifier id) {
        TestPlan p = plan;
        for (TestIdentifier at = id; p != null && at != null; at = p.getParent(at).orElse(null)) {
            String c = className(at);
            if (c != null) {
                return c;
            }
        }
        return "?";
    }

    /** The class a container stands for, or null when it is not a class. */
    private static String className(TestIdentifier id) {
        return id.isContainer() && id.getSource().orElse(null) instanceof ClassSource c ? c.getClassName() : null;
    }

    /** The innermost running class above a test. */
    private Running enclosingClass(TestIdentifier id) {
        TestPlan p = plan;
        for (TestIdentifier at = id; p != null && at != null; at = p.getParent(at).orElse(null)) {
            Running r = running.get(at.getUniqueId());
            if (r != null) {
                return r;
            }
        }
        return null;
    }
}
