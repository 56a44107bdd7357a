package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.stats.VcpuReport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** -stats as the command prints it: the three modes add up, and JSON can go to a file of its own. */
@RequiresKvm
class StatsGuestTest {

    record Outcome(int status, String out, String err) {}

    private static Outcome jkvm(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true), new PrintStream(err, true));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static long json(String doc, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(\\d+)").matcher(doc);
        assertTrue(m.find(), key + " in " + doc);
        return Long.parseLong(m.group(1));
    }

    /** hello halts with interrupts off: KVM handles that HLT itself (in-kernel irqchip), so kernel mode has it. */
    @Test
    void userPlusKernelModeIsKvmsCountOfExits(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("stats.json");
        Outcome o = jkvm("-bios", "hello", "-serial", "none", "-stats", "json,file=" + file);
        assertEquals(0, o.status(), o.err());
        assertFalse(o.err().contains("{"), "the JSON went to the file, not stderr: " + o.err());
        String doc = Files.readString(file);
        assertTrue(doc.startsWith("{\"vcpus\":[") && doc.endsWith("]}\n"), doc);
        String user = doc.substring(doc.indexOf("\"user_mode\""), doc.indexOf("\"kernel_mode\""));
        String kernel = doc.substring(doc.indexOf("\"kernel_mode\""));
        long userExits = json(user, "exits"), kernelExits = json(kernel, "exits");
        long all = json(kernel.substring(kernel.indexOf("\"kvm\"")), "exits");
        assertEquals(all, userExits + kernelExits, doc);
        long halts = json(kernel, "halt_exits");
        assertTrue(halts >= 1 && kernelExits >= halts, "the halt is a kernel-mode exit: " + doc);
    }

    @Test
    void theTableSaysTheSameSum() {
        Outcome o = jkvm("-bios", "hello", "-serial", "none", "-stats");
        assertEquals(0, o.status(), o.err());
        Matcher user = Pattern.compile("user mode +([\\d,]+) exits reached jkvm").matcher(o.err());
        Matcher kernel = Pattern.compile("kernel mode +([\\d,]+) exits handled in KVM \\(([\\d,]+) VM exits in all, less the"
                + " ([\\d,]+) that reached jkvm\\)").matcher(o.err());
        assertTrue(user.find() && kernel.find(), o.err());
        long u = Long.parseLong(user.group(1).replace(",", ""));
        long k = Long.parseLong(kernel.group(1).replace(",", ""));
        long all = Long.parseLong(kernel.group(2).replace(",", ""));
        assertEquals(u, Long.parseLong(kernel.group(3).replace(",", "")), o.err());
        assertEquals(all, u + k, o.err());
    }

    @Test
    void aStatsFileThatCannotBeWrittenIsBadInputBeforeTheGuestRuns(@TempDir Path dir) {
        Path serial = dir.resolve("serial.txt");
        Outcome o = jkvm("-bios", "hello", "-serial", "file:" + serial, "-stats", "json,file=" + dir.resolve("no/such/dir/s.json"));
        assertEquals(1, o.status(), o.err());
        assertEquals("jkvm: -stats file=" + dir.resolve("no/such/dir/s.json") + ": cannot write: no such directory",
                o.err().strip());
        assertFalse(Files.exists(serial), "the machine was never made");
    }

    /** The arithmetic itself, for KVM's numbers of a run whose vCPU was kicked while halted (no VM exit). */
    @Test
    void aKickWithoutAVmExitIsNotSubtracted() {
        var user = new dev.jkvm.vmm.stats.UserModeStats(
                java.util.List.of(new dev.jkvm.vmm.stats.UserModeStats.ByReason(dev.jkvm.kvm.abi.KvmConstants.KVM_EXIT_IO, 51, 0)),
                java.util.List.of(), java.util.List.of(), 0, 0, 1);
        VcpuReport r = new VcpuReport(0, "CPU 0/KVM", 1, user,
                java.util.Map.of("exits", 52L, "halt_exits", 1L, "signal_exits", 1L), null);
        assertEquals(1, r.kernelModeExits());
        assertEquals(0, r.uncountedUserExits());
    }
}
