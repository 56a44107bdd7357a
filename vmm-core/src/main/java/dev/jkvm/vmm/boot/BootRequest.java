package dev.jkvm.vmm.boot;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What the user asked to boot: QEMU's {@code -kernel}, {@code -initrd} and {@code -append}.
 *
 * <pre>{@code
 * BootRequest r = new BootRequest(Path.of("bzImage"), "initrd.img", "console=ttyS0");
 * BootRequest mb = new BootRequest(Path.of("kernel.elf"), "mod1 arg,mod2", "");   // Multiboot modules
 * }</pre>
 *
 * @param kernel the {@code -kernel} file
 * @param initrd the {@code -initrd} value as given, or null: one file for Linux and PVH; for
 *               Multiboot a comma-separated list of modules, each {@code "path args"} (",," is a comma)
 * @param append the {@code -append} command line ("" when absent)
 * @param acpiRsdp the guest-physical address of the ACPI RSDP, passed to kernels that take it
 *                 (Linux zero page, PVH start_info); 0 when the machine has none or the kernel
 *                 should scan for it
 */
public record BootRequest(Path kernel, String initrd, String append, long acpiRsdp) {

    public BootRequest {
        Objects.requireNonNull(kernel, "kernel");
        append = append == null ? "" : append;
        if (initrd != null && initrd.isEmpty()) {
            initrd = null;
        }
    }

    public BootRequest(Path kernel, String initrd, String append) {
        this(kernel, initrd, append, 0);
    }

    /** The same request telling the kernel where the ACPI RSDP is. */
    public BootRequest withAcpiRsdp(long address) {
        return new BootRequest(kernel, initrd, append, address);
    }
}
