package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The real gdb (Debian's, when installed) against the stub and a fake machine: proves the
 * target description, register layout, memory, threads and breakpoints interoperate, no KVM
 * needed. The process wait is a hang guard, not a measurement.
 */
class GdbInteropTest {

    private static final long V = FakeTarget.VIRTUAL_BASE;
    private static final long HANG_GUARD_SECONDS = 120;

    private final List<String> log = new CopyOnWriteArrayList<>();
    private final FakeTarget target = new FakeTarget(2);
    private GdbStub stub;
    private GdbServer server;
    private FakeVcpus vcpus;

    @AfterEach
    void tearDown() throws Exception {
        if (vcpus != null) {
            vcpus.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static Path gdb() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, "gdb");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private String runGdb(String... commands) throws IOException, InterruptedException {
        Path gdb = gdb();
        assumeTrue(gdb != null, "gdb is not installed");
        List<String> argv = new ArrayList<>(List.of(gdb.toString(), "-batch", "-nx",
                "-ex", "set architecture i386:x86-64",
                "-ex", "target remote 127.0.0.1:" + server.port()));
        for (String c : commands) {
            argv.add("-ex");
            argv.add(c);
        }
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(HANG_GUARD_SECONDS, TimeUnit.SECONDS), "gdb hung");
        return new String(out, StandardCharsets.UTF_8);
    }

    private void boot() {
        byte[] code = new byte[17];
        Arrays.fill(code, (byte) 0x90);
        code[16] = (byte) 0xf4;
        target.load(0x1000, code);
        target.load(0x1100, code);
        target.setRegs(1, target.regs(1).withRip(V + 0x1100));
        target.setRegs(0, target.regs(0).withRip(V + 0x1000));
        stub = new GdbStub(target, true, log::add);
        server = GdbServer.start(new GdbEndpoint.Tcp("", 0), stub, log::add);
        vcpus = new FakeVcpus(target, stub).start();
    }

    @Test
    void gdbReadsRegistersMemoryAndThreads() throws Exception {
        boot();
        String out = runGdb("info registers rip", "p/x $cr3", "p/x $fs_base", "p $mxcsr", "x/4xb 0xffff800000001000",
                "info threads", "detach");
        assertTrue(out.matches("(?s).*rip\\s+0xffff800000001000\\s.*"), out);
        assertTrue(out.contains("0x9000"), "cr3 from the sys feature:\n" + out);
        assertTrue(out.matches("(?s).*\\$\\d+ = 0x0\\n.*"), "fs_base:\n" + out);
        assertTrue(out.contains("[ IM DM ZM OM UM PM ]"), "mxcsr flags from the sse feature:\n" + out);
        assertTrue(out.contains("0xffff800000001000:\t0x90\t0x90\t0x90\t0x90"), out);
        assertTrue(out.contains("Thread 1 (CPU 0)"), out);
        assertTrue(out.contains("Thread 2 (CPU 1)"), out);
        // The one warning gdb gives any remote target without a file; nothing about the registers or packets.
        assertEquals(List.of("warning: No executable has been specified and target does not support"),
                out.lines().filter(l -> l.contains("warning") || l.contains("error") || l.contains("Remote '")).toList(), out);
    }

    @Test
    void gdbStopsAtABreakpointAndSteps() throws Exception {
        boot();
        String out = runGdb("break *0xffff800000001008", "continue", "info registers rip", "x/1xb 0xffff800000001008",
                "stepi", "info registers rip", "delete", "detach");
        assertTrue(out.contains("Breakpoint 1, 0xffff800000001008"), out);
        assertTrue(out.matches("(?s).*rip\\s+0xffff800000001008\\s.*"), out);
        assertTrue(out.contains("0xffff800000001008:\t0x90"), "gdb sees the original byte:\n" + out);
        assertTrue(out.matches("(?s).*rip\\s+0xffff800000001009\\s.*"), "after stepi:\n" + out);
        assertEquals((byte) 0x90, target.physicalByte(0x1008));
    }

    @Test
    void gdbWritesRegistersAndMemory() throws Exception {
        boot();
        String out = runGdb("set $rax = 0x1234", "set {char}0xffff800000002000 = 0x5a", "set $xmm1.v4_int32[0] = 7",
                "p/x $rax", "x/1xb 0xffff800000002000", "detach");
        assertTrue(out.contains("0x1234"), out);
        assertEquals(0x1234, target.regs(0).rax());
        assertEquals(0x5a, target.physicalByte(0x2000));
        assertEquals(7, target.fpu(0).xmm()[16]);
    }
}
