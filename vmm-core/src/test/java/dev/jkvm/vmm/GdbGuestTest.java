package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.gdb.GuestDebugProbe;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Debian's gdb against the GDB stub of a real guest: the bundled {@code meminfo} kernel, whose
 * symbols are in its build output ({@code guest-images/target/obj/meminfo/meminfo.elf64}).
 * {@code ./test} installs gdb when it is missing.
 */
@RequiresKvm
class GdbGuestTest {

    private static final Path SYMBOLS = dev.jkvm.vmm.boot.BuildOutput.meminfoElf64();

    /** What this host's KVM does with guest debugging (the stub measures the same at attach). */
    private static GuestDebugProbe debug;

    @BeforeAll
    static void haveGdbAndSymbols() {
        debug = GuestDebugProbe.run(SharedKvm.get());
        assertTrue(Files.isExecutable(Path.of("/usr/bin/gdb")), "gdb is needed (apt-get install gdb; ./test installs it)");
        assertTrue(Files.exists(SYMBOLS), "the meminfo kernel with symbols: " + SYMBOLS.toAbsolutePath());
    }

    private record Session(Machine machine, List<String> log) implements AutoCloseable {
        @Override
        public void close() {
            machine.close();
        }
    }

    private static Session machine(String... extra) {
        List<String> args = new ArrayList<>(List.of("-kernel", "meminfo", "-gdb", "tcp::0", "-S"));
        args.addAll(List.of(extra));
        Machine m = DevicesGuestTest.machine(args.toArray(String[]::new));
        List<String> log = new CopyOnWriteArrayList<>();
        m.onLog(log::add);
        m.start();
        return new Session(m, log);
    }

    /** Runs gdb in batch mode with {@code commands} against the machine; returns what it printed. */
    private static String gdb(Machine m, String... commands) throws IOException, InterruptedException {
        Process p = startGdb(m, commands);
        String out = drain(p.getInputStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "gdb did not finish:\n" + out);
        return out;
    }

    private static Process startGdb(Machine m, String... commands) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("gdb", "-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off"));
        if (System.getenv("JKVM_IN_VM") != null) {
            // gdb gives up on a reply after 2 s (remotetimeout); inside scripts/in-vm on a loaded host
            // the stub's first replies took longer, and gdb then saw "the program is not being run".
            cmd.addAll(List.of("-ex", "set remotetimeout 60"));
        }
        cmd.addAll(List.of("-ex", "target remote 127.0.0.1:" + m.gdbPort().orElseThrow()));
        for (String c : commands) {
            cmd.addAll(List.of("-ex", c));
        }
        cmd.add(SYMBOLS.toString());
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static String drain(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Where KVM never stops the guest for something, the stub must have said so when gdb attached. */
    private static void assertAttachNote(Session s, String feature) {
        assertTrue(s.log().stream().anyMatch(l -> l.contains("never stops the guest for") && l.contains(feature)),
                "the stub's attach note about " + feature + ": " + s.log());
    }

    @Test
    void breakAtAFunctionReadAVariableStepAndDetach() throws Exception {
        if (!debug.softwareBreakpoints()) {
            try (Session s = machine("-append", "step=4096")) {
                String out = gdb(s.machine(), "break kmain", "detach");
                assertTrue(out.contains("Breakpoint 1 at"), out);
                assertAttachNote(s, "software breakpoints");
            }
            return;
        }
        try (Session s = machine("-append", "step=4096")) {
            String out = gdb(s.machine(), "break kmain", "continue", "info registers rip", "stepi", "info registers rip",
                    "print/x watched_var", "monitor info cpus", "detach");
            assertTrue(out.contains("Breakpoint 1, kmain"), out);
            Matcher rips = Pattern.compile("rip\\s+0x(\\p{XDigit}+)").matcher(out);
            assertTrue(rips.find(), out);
            long before = Long.parseLong(rips.group(1), 16);
            assertTrue(rips.find(), out);
            long after = Long.parseLong(rips.group(1), 16);
            assertTrue(after > before && after - before <= 15, "stepi moved RIP from " + before + " to " + after);
            assertTrue(out.contains("CPU #0: thread_id="), out); // the monitor, from inside gdb
            // detach: the guest runs on to its end, and prints the variable gdb read
            RunResult r = s.machine().run(Duration.ofSeconds(120));
            assertEquals(33, r.exitStatus(), r.serialTail(10));
            Matcher v = Pattern.compile("var addr=0x\\p{XDigit}+ value=(0x\\p{XDigit}+)").matcher(r.serial());
            assertTrue(v.find(), r.serial());
            assertTrue(out.contains("$1 = " + v.group(1)), out);
        }
    }

    @Test
    void oneThreadPerVcpu() throws Exception {
        try (Session s = machine("-smp", "4", "-append", "step=4096")) {
            String out = gdb(s.machine(), "info threads", "detach");
            for (int i = 0; i < 4; i++) {
                assertTrue(out.contains("Thread " + (i + 1) + " (CPU " + i + ")"), out);
            }
        }
    }

    @Test
    void ctrlCStopsASpinningGuest() throws Exception {
        try (Session s = machine("-append", "step=4096 wait=60")) {
            s.machine().serial();
            Process p = startGdb(s.machine(), "continue", "info registers rip", "detach");
            // let the guest reach its spin loop, then interrupt gdb as a user's Ctrl-C would
            assertTrue(s.machine().serial().awaitLine(Pattern.compile("waiting seconds=.*"), Duration.ofSeconds(120)).isPresent(),
                    s.machine().serial().tail(5));
            Thread.sleep(500);
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            String out = drain(p.getInputStream());
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
            assertTrue(out.contains("received signal SIGINT"), out);
            assertTrue(out.matches("(?s).*rip\\s+0x\\p{XDigit}+.*"), out);
        }
    }

    /**
     * A write watchpoint stops on the guest's own write ({@code poke_var} adds one to
     * {@code watched_var}) and gdb shows the old and new values: by the debug registers where KVM
     * honours them, by the stub's single-stepping where KVM only single-steps (kvm_pvm), and where
     * nothing stops the guest (QEMU's software SVM) the stub must have said so.
     */
    @Test
    void aWatchpointStopsOnTheGuestsWriteWithTheOldAndNewValues() throws Exception {
        try (Session s = machine("-append", "step=4096 poke=1")) {
            if (!debug.softwareBreakpoints() || (!debug.watchpoints() && !debug.singleStep())) {
                gdb(s.machine(), "watch watched_var", "detach");
                assertAttachNote(s, "watchpoints");
                return;
            }
            String out = gdb(s.machine(), "break poke_var", "continue", "delete 1", "watch watched_var", "continue",
                    "info registers rip", "detach");
            long initial = 0x6a6b766d2d766172L; // "jkvm-var"
            assertTrue(out.contains("Hardware watchpoint 2: watched_var"), out);
            assertTrue(out.contains("Old value = " + Long.toUnsignedString(initial)), out);
            assertTrue(out.contains("New value = " + Long.toUnsignedString(initial + 1)), out);
            assertTrue(out.contains("poke_var"), "stopped in the function that wrote: " + out);
            if (!debug.watchpoints()) {
                assertTrue(s.log().stream().anyMatch(l -> l.contains("write watchpoints (watch, awatch) are emulated")),
                        s.log().toString());
            }
            // detached, the guest runs on to its end and prints what it wrote
            RunResult r = s.machine().run(Duration.ofSeconds(120));
            assertEquals(33, r.exitStatus(), r.serialTail(10));
            assertTrue(r.serial().contains("var poked value=0x" + Long.toHexString(initial + 1)), r.serialTail(10));
        }
    }
}
