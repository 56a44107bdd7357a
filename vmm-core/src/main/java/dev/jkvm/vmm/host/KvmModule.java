package dev.jkvm.vmm.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which kernel module provides {@code /dev/kvm} and how it maps guest memory: EPT and VPID as
 * {@code kvm_intel}'s parameters say, NPT as {@code kvm_amd}'s says, or shadow paging when neither
 * module is loaded (kvm_pvm, for example, runs guests under shadow page tables).
 *
 * @param module the vendor module ({@code kvm_intel}, {@code kvm_amd}, {@code kvm_pvm}, ...)
 * @param pagingMode one line: {@code EPT (ept=Y), VPID (vpid=Y)}, {@code NPT (npt=Y)} or {@code shadow paging}
 */
public record KvmModule(String module, String pagingMode) {

    private static final Path MODULES = Path.of("/sys/module");

    /** Reads the modules loaded now. */
    public static KvmModule detect() {
        return detect(MODULES);
    }

    /** Reads the module tree at {@code root} (a test points it at a fake one). */
    public static KvmModule detect(Path root) {
        if (Files.isDirectory(root.resolve("kvm_intel"))) {
            String ept = param(root, "kvm_intel", "ept");
            String vpid = param(root, "kvm_intel", "vpid");
            String paging = "Y".equals(ept) ? "EPT (ept=Y)" : "shadow paging (ept=" + ept + ")";
            return new KvmModule("kvm_intel", paging + ", VPID " + ("Y".equals(vpid) ? "on" : "off") + " (vpid=" + vpid + ")");
        }
        if (Files.isDirectory(root.resolve("kvm_amd"))) {
            String npt = param(root, "kvm_amd", "npt");
            String v = "1".equals(npt) || "Y".equals(npt) ? "NPT (npt=" + npt + ")" : "shadow paging (npt=" + npt + ")";
            return new KvmModule("kvm_amd", v);
        }
        try (var list = Files.list(root)) {
            String other = list.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("kvm_")).sorted()
                    .findFirst().orElse("kvm");
            return new KvmModule(other, "shadow paging (neither kvm_intel nor kvm_amd is loaded; " + other
                    + " provides /dev/kvm, no EPT/NPT)");
        } catch (IOException e) {
            return new KvmModule("unknown", "unknown (cannot read " + root + ")");
        }
    }

    private static String param(Path root, String module, String name) {
        try {
            return Files.readString(root.resolve(module).resolve("parameters").resolve(name)).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
