package dev.jkvm.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a {@link dev.jkvm.vmm.Machine} parameter: inject the machine built but not started, so the
 * test can add its own devices first ({@code machine.ports().register(...)}) and then start or
 * run it.
 *
 * <pre>{@code
 * @Test @Guest(bios = "port-driver")
 * void driverWorks(@NotStarted Machine m) {
 *     m.ports().register(0x300, 4, myDevice);
 *     RunResult r = m.run(Duration.ofSeconds(5));
 * }
 * }</pre>
 */
@Target(ElementType.PARAMETER)
@Retention(RetentionPolicy.RUNTIME)
public @interface NotStarted {
}
