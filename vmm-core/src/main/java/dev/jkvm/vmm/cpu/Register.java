package dev.jkvm.vmm.cpu;

import dev.jkvm.kvm.CpuidEntry;
import java.util.Locale;

/**
 * The four registers a CPUID leaf answers in.
 *
 * <pre>{@code
 * int ecx = Register.ECX.of(entry);
 * }</pre>
 */
public enum Register {
    EAX, EBX, ECX, EDX;

    /** This register's value in {@code entry}. */
    public int of(CpuidEntry entry) {
        return switch (this) {
            case EAX -> entry.eax();
            case EBX -> entry.ebx();
            case ECX -> entry.ecx();
            case EDX -> entry.edx();
        };
    }

    /** The register named {@code name} ({@code "ecx"}, any case). */
    public static Register parse(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
