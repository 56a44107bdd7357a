package dev.jkvm.kvm.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Runs a {@link RequiresKvm} test only where {@code /dev/kvm} can be opened for reading and writing. */
public final class KvmCondition implements ExecutionCondition {

    private static final Path KVM = Path.of("/dev/kvm");

    /** Whether this host can run KVM tests. */
    public static boolean kvmUsable() {
        return Files.exists(KVM) && Files.isReadable(KVM) && Files.isWritable(KVM);
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return kvmUsable()
                ? ConditionEvaluationResult.enabled("/dev/kvm is usable")
                : ConditionEvaluationResult.disabled("/dev/kvm is missing or not accessible on this host: KVM test not run");
    }
}
