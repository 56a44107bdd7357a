package dev.jkvm.kvm.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test that needs a usable {@code /dev/kvm}: tagged {@code kvm} (so a runner can send the
 * group elsewhere) and reported as skipped, with the reason, where KVM is missing. {@code ./test}
 * counts such a skip as a failure on a host that has KVM.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("kvm")
@ExtendWith(KvmCondition.class)
public @interface RequiresKvm {
}
