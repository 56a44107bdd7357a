package dev.jkvm.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Boots a jkvm guest for a test: a parameter of type {@link dev.jkvm.vmm.Machine} receives the
 * started machine, one of type {@link dev.jkvm.vmm.RunResult} the result of running it to its end
 * (both may be asked for: the result then comes from the same machine). Every attribute is the
 * QEMU option of the same name; the machine is closed after the test, whatever happened.
 *
 * <pre>{@code
 * @Guest(bios = "debug-exit", timeout = "5s")
 * void exitsWith42(RunResult r) {
 *     assertEquals(0x2a, r.debugExitValue());
 * }
 * }</pre>
 *
 * <p>On a class, it applies to every test method that has no {@code @Guest} of its own. Tests are
 * tagged {@code kvm}: where {@code /dev/kvm} is missing they are aborted with the reason (and the
 * project's own build runs them in its nested VM).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Tag("kvm")
@ExtendWith(JkvmExtension.class)
public @interface Guest {

    /** {@code -bios}: a ROM file, or a bundled ROM by name ({@code hello}, {@code debug-exit}, ...). */
    String bios() default "";

    /** {@code -kernel}: a Multiboot or Linux kernel file, or a bundled test kernel by name ({@code cpuinfo}, ...). */
    String kernel() default "";

    /** {@code -initrd}. */
    String initrd() default "";

    /** {@code -append}: the kernel command line. */
    String append() default "";

    /** {@code -smp}. */
    String smp() default "1";

    /** {@code -m}. */
    String memory() default "128M";

    /** {@code -cpu}. */
    String cpu() default "qemu64";

    /** How long the guest may run when the test asks for its {@code RunResult}: {@code 500ms}, {@code 5s}, {@code 1m}. */
    String timeout() default "10s";

    /**
     * Boot once per test class until the first serial line that matches this regular expression
     * ({@code find}, not the whole line), snapshot the machine there, and start every test method
     * from a restore of that snapshot instead of booting: a test kernel that takes long to come up
     * boots once for all its cases. Empty (the default): every test boots its own guest.
     */
    String bootUntil() default "";

    /** Any other jkvm options, one argument per element ({@code {"-no-reboot", "-machine", "kernel-irqchip=off"}}). */
    String[] args() default {};
}
