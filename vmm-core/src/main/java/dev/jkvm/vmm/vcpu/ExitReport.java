package dev.jkvm.vmm.vcpu;

import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Segment;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuExit;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * What a user needs when the guest dies: the exit, its sub-reason, where the vCPU was (mode,
 * CS:RIP), every register, and the instruction bytes at RIP. {@link #gather} asks the vCPU for
 * them; {@link #of} builds the report from the exit view and registers with no KVM call, so tests
 * can fill a {@code kvm_run} by hand.
 *
 * <pre>{@code
 * ExitReport r = ExitReport.gather(0, KVM_EXIT_SHUTDOWN, fd, memory); // on the vCPU thread
 * System.err.print(r.format());
 * }</pre>
 *
 * @param vcpu the vCPU index
 * @param exitReason the {@code KVM_EXIT_*} value
 * @param rip the instruction pointer at the exit
 * @param headline one line: what happened
 * @param details the lines below it: sub-reason data, registers, code bytes
 */
public record ExitReport(int vcpu, int exitReason, long rip, String headline, List<String> details) {

    public ExitReport {
        details = List.copyOf(details);
    }

    /** Internal-error sub-reasons, as {@code <linux/kvm.h>} names them. */
    private static String internalSuberror(int suberror) {
        return switch (suberror) {
            case KvmConstants.KVM_INTERNAL_ERROR_EMULATION -> "emulation failure: KVM's instruction emulator could not run the instruction";
            case KvmConstants.KVM_INTERNAL_ERROR_SIMUL_EX -> "exception while delivering an exception";
            case KvmConstants.KVM_INTERNAL_ERROR_DELIVERY_EV -> "exit while delivering an event";
            case KvmConstants.KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON -> "unexpected exit reason from hardware";
            default -> "suberror " + suberror;
        };
    }

    /** How many bytes at RIP a report shows: the longest x86 instruction is 15. */
    private static final int CODE_BYTES = 16;

    /**
     * Gathers the report of the exit {@code fd} just returned, on the vCPU thread (off the hot
     * path: two ioctls, perhaps a translation, and a read of the code at CS:RIP).
     */
    public static ExitReport gather(int vcpu, int exitReason, VcpuFd fd, GuestMemory memory) {
        Regs regs = fd.regs();
        Sregs sregs = fd.sregs();
        long codeAddress = codeAddress(fd, regs, sregs);
        byte[] code = new byte[0];
        if (codeAddress >= 0) {
            byte[] at = new byte[CODE_BYTES];
            code = Arrays.copyOf(at, memory.readPrefix(codeAddress, at)); // what of it is memory
        }
        return of(vcpu, exitReason, fd.exit(), regs, sregs, codeAddress, code);
    }

    /** The guest-physical address of CS:RIP, or -1 if the page tables do not map it. */
    private static long codeAddress(VcpuFd fd, Regs regs, Sregs sregs) {
        boolean protectedMode = (sregs.cr0() & 1) != 0;
        long linear = sregs.cs().base() + (protectedMode ? regs.rip() : regs.rip() & 0xffff);
        if ((sregs.cr0() & (1L << 31)) == 0) {
            return linear & 0xffff_ffffL;
        }
        try {
            return fd.translate(linear);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /**
     * Builds the report.
     *
     * @param codeAddress the guest-physical address the code bytes were read from, or -1 if RIP is not mapped
     * @param code the bytes at RIP (may be empty)
     */
    public static ExitReport of(int vcpu, int exitReason, VcpuExit exit, Regs regs, Sregs sregs,
                                long codeAddress, byte[] code) {
        List<String> details = new ArrayList<>();
        String headline = switch (exitReason) {
            case KvmConstants.KVM_EXIT_SHUTDOWN -> "triple fault (KVM_EXIT_SHUTDOWN): the CPU shut down";
            case KvmConstants.KVM_EXIT_INTERNAL_ERROR -> {
                VcpuExit.Internal internal = exit.internal();
                int suberror = internal.suberror();
                int ndata = internal.ndata();
                StringBuilder data = new StringBuilder("internal error data:");
                for (int i = 0; i < Math.min(ndata, 16); i++) {
                    data.append(String.format(" %016x", internal.data(i)));
                }
                if (ndata > 0) {
                    details.add(data.toString());
                }
                yield "KVM internal error (KVM_EXIT_INTERNAL_ERROR, suberror " + suberror + "): " + internalSuberror(suberror);
            }
            case KvmConstants.KVM_EXIT_FAIL_ENTRY -> {
                yield String.format("VM entry failed (KVM_EXIT_FAIL_ENTRY): hardware entry failure reason 0x%x on host CPU %d",
                        exit.failEntry().hardwareReason(), exit.failEntry().cpu());
            }
            default -> "unexpected exit " + KvmConstants.exitReasonName(exitReason) + " (" + exitReason + ")";
        };
        Segment cs = sregs.cs();
        if (exitReason == KvmConstants.KVM_EXIT_SHUTDOWN && regs.rip() == 0xfff0 && cs.base() == 0xffff0000L) {
            // AMD's SVM leaves the guest state undefined after a shutdown intercept, so KVM resets
            // the vCPU before it reports the exit: these are reset values, not the faulting state.
            details.add("KVM reset this vCPU before reporting the shutdown (AMD SVM): the registers below are"
                    + " its reset state, not where it faulted");
        }
        details.add(String.format("RIP=%016x CS=%04x (base %x) %s", regs.rip(), cs.selector(), cs.base(), mode(sregs)));
        details.add(String.format("RAX=%016x RBX=%016x RCX=%016x RDX=%016x", regs.rax(), regs.rbx(), regs.rcx(), regs.rdx()));
        details.add(String.format("RSI=%016x RDI=%016x RBP=%016x RSP=%016x", regs.rsi(), regs.rdi(), regs.rbp(), regs.rsp()));
        details.add(String.format("R8 =%016x R9 =%016x R10=%016x R11=%016x", regs.r8(), regs.r9(), regs.r10(), regs.r11()));
        details.add(String.format("R12=%016x R13=%016x R14=%016x R15=%016x", regs.r12(), regs.r13(), regs.r14(), regs.r15()));
        details.add(String.format("RFLAGS=%08x CR0=%08x CR2=%016x CR3=%016x CR4=%08x EFER=%x",
                regs.rflags(), sregs.cr0(), sregs.cr2(), sregs.cr3(), sregs.cr4(), sregs.efer()));
        details.add(String.format("GDT=%x/%x IDT=%x/%x SS=%04x DS=%04x ES=%04x FS=%04x GS=%04x TR=%04x",
                sregs.gdt().base(), sregs.gdt().limit(), sregs.idt().base(), sregs.idt().limit(),
                sregs.ss().selector(), sregs.ds().selector(), sregs.es().selector(), sregs.fs().selector(),
                sregs.gs().selector(), sregs.tr().selector()));
        if (codeAddress < 0) {
            details.add("code: RIP is not mapped to guest memory");
        } else if (code.length == 0) {
            details.add(String.format("code at %x: not in guest memory", codeAddress));
        } else {
            details.add(String.format("code at %x: %s", codeAddress, HexFormat.ofDelimiter(" ").formatHex(code)));
        }
        return new ExitReport(vcpu, exitReason, regs.rip(), headline, details);
    }

    /** The CPU mode the registers describe, in words. */
    static String mode(Sregs sregs) {
        if ((sregs.cr0() & 1) == 0) {
            return "real mode";
        }
        boolean paging = (sregs.cr0() & (1L << 31)) != 0;
        String pg = paging ? ", paging" : "";
        if ((sregs.efer() & (1L << 10)) != 0) {
            return (sregs.cs().l() ? "64-bit long mode" : "compatibility mode") + pg;
        }
        return (sregs.cs().db() ? "32-bit protected mode" : "16-bit protected mode") + pg;
    }

    /** The headline and details as the CLI prints them on stderr. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "jkvm: CPU %d: %s%n", vcpu, headline));
        for (String d : details) {
            sb.append("  ").append(d).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
