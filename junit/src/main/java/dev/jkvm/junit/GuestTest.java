package dev.jkvm.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the test once per combination of the listed {@code -smp} and {@code -cpu} values, each time
 * with a fresh guest configured by the method's (or class's) {@link Guest} and those two values.
 *
 * <pre>{@code
 * @GuestTest(smp = {"1", "2", "4"}, cpu = {"qemu64", "Westmere"})
 * @Guest(kernel = "cpuinfo")
 * void everyCpuComesUp(RunResult r) { ... }      // 6 invocations
 * }</pre>
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@TestTemplate
@Tag("kvm")
@ExtendWith(JkvmExtension.class)
public @interface GuestTest {

    /** {@code -smp} values; empty: the {@link Guest}'s. */
    String[] smp() default {};

    /** {@code -cpu} values; empty: the {@link Guest}'s. */
    String[] cpu() default {};
}
