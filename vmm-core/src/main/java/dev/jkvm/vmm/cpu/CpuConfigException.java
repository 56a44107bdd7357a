package dev.jkvm.vmm.cpu;

import dev.jkvm.vmm.JkvmException;

/**
 * A CPU or topology request jkvm refuses ({@code -smp}, {@code -cpu}, a {@code [cpudef]} file,
 * {@code enforce}): the message is the one line to show, in QEMU's words where QEMU has some.
 *
 * <pre>{@code
 * try { SmpOption.parse("0"); } catch (CpuConfigException e) { System.err.println(e.getMessage()); }
 * }</pre>
 */
public class CpuConfigException extends JkvmException {
    public CpuConfigException(String message) {
        super(message);
    }
}
