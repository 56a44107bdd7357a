package dev.jkvm.junit;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.snapshot.Snapshot;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.opentest4j.TestAbortedException;

/**
 * The JUnit 5 side of {@link Guest} and {@link GuestTest}: builds the guest the test asked for,
 * injects the started {@link Machine} or the finished {@link RunResult}, closes the machine after
 * the test, and, when the test fails, adds how the guest ended and the last lines it printed to the
 * failure (the whole serial transcript goes into the test report and a file under
 * {@code target/jkvm-serial/}).
 */
public final class JkvmExtension implements ParameterResolver, AfterEachCallback, TestExecutionExceptionHandler,
        TestTemplateInvocationContextProvider {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(JkvmExtension.class);
    private static final int TAIL_LINES = 20;

    /** The machine of one test, and the spec it came from. */
    private static final class Booted {
        final GuestSpec spec;
        Machine machine;
        RunResult result;

        Booted(GuestSpec spec) {
            this.spec = spec;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
        Class<?> type = p.getParameter().getType();
        return type == Machine.class || type == RunResult.class || type == MachineConfig.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
        Booted b = booted(c);
        Class<?> type = p.getParameter().getType();
        if (type == MachineConfig.class) {
            return b.spec.config();
        }
        Machine m = machine(b, c);
        if (type == Machine.class) {
            if (!p.isAnnotated(NotStarted.class)) {
                m.start();
            }
            return m;
        }
        if (b.result == null) {
            b.result = m.run(b.spec.timeout());
        }
        return b.result;
    }

    private Booted booted(ExtensionContext c) {
        return c.getStore(NS).getOrComputeIfAbsent(Booted.class, k -> new Booted(specFor(c, null, null)), Booted.class);
    }

    private static Machine machine(Booted b, ExtensionContext c) {
        if (b.machine == null) {
            try {
                b.machine = b.spec.bootUntil().isEmpty() ? Machine.create(b.spec.config())
                        : Machine.create(b.spec.config(), bootedSnapshot(b.spec, c));
            } catch (JkvmException e) {
                if (!kvmUsable()) {
                    throw new TestAbortedException("/dev/kvm is missing or not usable on this host: " + e.getMessage());
                }
                throw new ParameterResolutionException("jkvm could not build the guest " + b.spec.describe() + ": "
                        + e.getMessage(), e);
            }
        }
        return b.machine;
    }

    /**
     * The snapshot of {@code spec}'s guest booted until its {@code bootUntil} line: made once per
     * test class (kept in the class's store) and shared by its test methods.
     */
    private static Snapshot bootedSnapshot(GuestSpec spec, ExtensionContext c) {
        ExtensionContext classContext = c.getParent().filter(p -> p.getTestMethod().isEmpty()).orElse(c);
        return classContext.getStore(NS).getOrComputeIfAbsent(List.of("bootUntil", spec), k -> boot(spec), Snapshot.class);
    }

    private static Snapshot boot(GuestSpec spec) {
        Pattern until = Pattern.compile(".*(?:" + spec.bootUntil() + ").*");
        try (Machine m = Machine.create(spec.config())) {
            m.start();
            Optional<String> line;
            try {
                line = m.serial().awaitLine(until, spec.timeout());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ParameterResolutionException("interrupted while booting " + spec.describe());
            }
            if (line.isEmpty()) {
                throw new ParameterResolutionException("@Guest(bootUntil = \"" + spec.bootUntil() + "\"): " + spec.describe()
                        + " printed no such line within " + spec.timeout().toMillis() + " ms; its last serial lines:\n"
                        + m.serial().tail(TAIL_LINES));
            }
            m.pause();
            return m.snapshot();
        }
    }

    private static boolean kvmUsable() {
        Path kvm = Path.of("/dev/kvm");
        return Files.isReadable(kvm) && Files.isWritable(kvm);
    }

    static GuestSpec specFor(ExtensionContext c, String smp, String cpu) {
        Optional<Guest> g = c.getTestMethod().map(m -> m.getAnnotation(Guest.class));
        Guest guest = g.orElseGet(() -> c.getTestClass().map(k -> k.getAnnotation(Guest.class)).orElse(null));
        if (guest == null) {
            guest = Defaults.class.getAnnotation(Guest.class);
        }
        return GuestSpec.of(guest, smp, cpu);
    }

    /** Where the defaults of an unannotated {@link GuestTest} come from. */
    @Guest
    private static final class Defaults {
    }

    @Override
    public void handleTestExecutionException(ExtensionContext c, Throwable failure) throws Throwable {
        Booted b = c.getStore(NS).get(Booted.class, Booted.class);
        if (b == null || b.machine == null || !(failure instanceof AssertionError)) {
            throw failure;
        }
        AssertionError wrapped = new AssertionError(failure.getMessage() + "\n" + guestSummary(b), failure);
        wrapped.setStackTrace(failure.getStackTrace());
        throw wrapped;
    }

    private static String guestSummary(Booted b) {
        Optional<RunResult> r = b.machine.result();
        String end = r.map(x -> "the guest ended: " + x.reason() + " (" + x.message() + ")")
                .orElse("the guest was still running");
        String tail = b.machine.serial().tail(TAIL_LINES);
        return "--- jkvm " + b.spec.describe() + ": " + end + "; its last serial lines:\n" + tail;
    }

    @Override
    public void afterEach(ExtensionContext c) {
        Booted b = c.getStore(NS).remove(Booted.class, Booted.class);
        if (b == null || b.machine == null) {
            return;
        }
        try {
            b.machine.close();
        } finally {
            String transcript = b.machine.serial().transcript();
            c.publishReportEntry("jkvm.serial", transcript);
            try {
                Path dir = Path.of("target", "jkvm-serial");
                Files.createDirectories(dir);
                String name = c.getRequiredTestClass().getSimpleName() + "." + c.getDisplayName()
                        .replaceAll("[^A-Za-z0-9._-]+", "_") + ".log";
                Files.writeString(dir.resolve(name), transcript);
            } catch (IOException e) {
                // the report entry above still has it
            }
        }
    }

    // ---- @GuestTest: one invocation per (smp, cpu) combination

    @Override
    public boolean supportsTestTemplate(ExtensionContext c) {
        return c.getTestMethod().map(m -> m.isAnnotationPresent(GuestTest.class)).orElse(false);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext c) {
        Method m = c.getRequiredTestMethod();
        GuestTest matrix = m.getAnnotation(GuestTest.class);
        String[] smps = matrix.smp().length > 0 ? matrix.smp() : new String[] {null};
        String[] cpus = matrix.cpu().length > 0 ? matrix.cpu() : new String[] {null};
        List<TestTemplateInvocationContext> out = new ArrayList<>();
        for (String smp : smps) {
            for (String cpu : cpus) {
                GuestSpec spec = specFor(c, smp, cpu);
                out.add(new TestTemplateInvocationContext() {
                    @Override
                    public String getDisplayName(int index) {
                        return "[" + index + "] " + (smp != null ? "-smp " + smp + " " : "") + (cpu != null ? "-cpu " + cpu : "");
                    }

                    @Override
                    public List<org.junit.jupiter.api.extension.Extension> getAdditionalExtensions() {
                        return List.of((org.junit.jupiter.api.extension.BeforeEachCallback) ctx ->
                                ctx.getStore(NS).put(Booted.class, new Booted(spec)));
                    }
                });
            }
        }
        return out.stream();
    }
}
