package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole debugger sessions over a real socket against fake vCPU threads: nops, a hlt, and the
 * stub's breakpoints, steps and interrupts doing to them what they would do on KVM.
 */
class GdbServerTest {

    static final long V = FakeTarget.VIRTUAL_BASE;
    static final byte NOP = (byte) 0x90;
    static final byte HLT = (byte) 0xf4;

    private final List<String> log = new CopyOnWriteArrayList<>();
    private final FakeTarget target = new FakeTarget(2);
    private GdbStub stub;
    private GdbServer server;
    private FakeVcpus vcpus;

    /** cpu 0 at V+0x1000: 16 nops, then hlt at 0x1010. cpu 1 at V+0x1100: 16 nops, then hlt at 0x1110. */
    private void boot(boolean waitForDebugger) {
        byte[] code = new byte[17];
        Arrays.fill(code, NOP);
        code[16] = HLT;
        target.load(0x1000, code);
        target.load(0x1100, code);
        target.setRegs(1, target.regs(1).withRip(V + 0x1100));
        stub = new GdbStub(target, waitForDebugger, log::add);
        server = GdbServer.start(new GdbEndpoint.Tcp("", 0), stub, log::add);
        vcpus = new FakeVcpus(target, stub).start();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (vcpus != null) {
            vcpus.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static String hex(long a) {
        return Long.toHexString(a);
    }

    private static String le(long value) {
        byte[] b = new byte[8];
        RegisterLayout.putLong(b, 0, value, 8);
        return Hex.bytes(b);
    }

    private void awaitRip(int cpu, long rip) throws InterruptedException {
        while (target.regs(cpu).rip() != rip) {
            Thread.sleep(1);
        }
    }

    @Test
    void aFullSession() throws Exception {
        boot(true);
        try (GdbTestClient gdb = new GdbTestClient(server.port())) {
            assertTrue(gdb.exchange("qSupported:multiprocess+;swbreak+;hwbreak+").startsWith("PacketSize=4000;"));
            assertEquals("T05thread:01;", gdb.exchange("?"));
            String g = gdb.exchange("g");
            assertEquals(1200, g.length());
            assertEquals(le(V + 0x1000), g.substring(256, 272), "rip at byte 128 of the g packet");
            assertEquals("90909090", gdb.exchange("m" + hex(V + 0x1000) + ",4"));

            // A software breakpoint: the vCPU runs into it, the stop names it, RIP points at it.
            assertEquals("OK", gdb.exchange("Z0," + hex(V + 0x1008) + ",1"));
            assertEquals("T05thread:01;swbreak:;", gdb.exchange("c"));
            assertEquals(le(V + 0x1008), gdb.exchange("p10"));
            assertEquals("90", gdb.exchange("m" + hex(V + 0x1008) + ",1"), "gdb never sees the int3");
            assertEquals(target.guestDebug(0), target.guestDebug(1), "breakpoints arm every vCPU");

            // Step off it.
            assertEquals("OK", gdb.exchange("z0," + hex(V + 0x1008) + ",1"));
            assertEquals(NOP, target.physicalByte(0x1008));
            assertEquals("T05thread:01;", gdb.exchange("vCont;s:1"));
            assertEquals(le(V + 0x1009), gdb.exchange("p10"));
            assertEquals("T05thread:01;", gdb.exchange("s"));
            assertEquals(le(V + 0x100a), gdb.exchange("p10"));

            // A hardware breakpoint.
            assertEquals("OK", gdb.exchange("Z1," + hex(V + 0x100c) + ",1"));
            assertEquals("T05thread:01;hwbreak:;", gdb.exchange("vCont;c"));
            assertEquals(le(V + 0x100c), gdb.exchange("p10"));
            assertEquals("OK", gdb.exchange("z1," + hex(V + 0x100c) + ",1"));

            // Ctrl-C while both vCPUs sit in hlt.
            gdb.send("c");
            awaitRip(0, V + 0x1010);
            awaitRip(1, V + 0x1110);
            gdb.sendRaw(new byte[] {0x03});
            assertEquals("T02thread:01;", gdb.receive());

            assertEquals("OK", gdb.exchange("D"));
            assertTrue(gdb.awaitClosed());
        }
        assertEquals(GuestDebug.OFF, target.guestDebug(0));
        assertEquals(GuestDebug.OFF, target.guestDebug(1));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("gdb: debugger connected from")), log.toString());
        assertTrue(log.contains("gdb: debugger detached"), log.toString());
    }

    @Test
    void everyVcpuStopsAndEachBreakpointIsToldOnce() throws Exception {
        boot(true);
        long[] breakpoint = {V + 0x1004, V + 0x1104};
        try (GdbTestClient gdb = new GdbTestClient(server.port())) {
            gdb.exchange("qSupported:swbreak+");
            gdb.noAck();
            assertEquals("OK", gdb.exchange("Z0," + hex(breakpoint[0]) + ",1"));
            assertEquals("OK", gdb.exchange("Z0," + hex(breakpoint[1]) + ",1"));
            String first = gdb.exchange("c");
            int firstCpu = first.equals("T05thread:01;swbreak:;") ? 0 : 1;
            assertEquals("T05thread:0" + (firstCpu + 1) + ";swbreak:;", first);
            int other = 1 - firstCpu;
            // All-stop: the other vCPU stopped too, before or on its breakpoint, never past it.
            assertTrue(Long.compareUnsigned(target.regs(other).rip(), breakpoint[other]) <= 0);
            // As gdb does before going on: take away the breakpoint the first vCPU sits on.
            assertEquals("OK", gdb.exchange("z0," + hex(breakpoint[firstCpu]) + ",1"));
            // The other vCPU's hit is told next (at once if it had already happened), exactly once.
            assertEquals("T05thread:0" + (other + 1) + ";swbreak:;", gdb.exchange("c"));
            assertEquals(breakpoint[other], target.regs(other).rip());
            assertEquals("OK", gdb.exchange("z0," + hex(breakpoint[other]) + ",1"));
            gdb.send("c");
            awaitRip(0, V + 0x1010);
            awaitRip(1, V + 0x1110);
            gdb.sendRaw(new byte[] {0x03});
            assertTrue(gdb.receive().startsWith("T02thread:0"), "an interrupt, not a stale breakpoint");
        }
    }

    @Test
    void aDebuggerThatVanishesLeavesTheGuestCleanAndRunning() throws Exception {
        boot(true);
        try (GdbTestClient gdb = new GdbTestClient(server.port())) {
            gdb.exchange("qSupported");
            assertEquals("OK", gdb.exchange("Z0," + hex(V + 0x1008) + ",1"));
            assertEquals("OK", gdb.exchange("Z2,2000,4"));
            assertEquals((byte) 0xCC, target.physicalByte(0x1008));
        }
        // No D: the socket just closed. The int3 goes, debugging goes off, the guest runs to its hlt.
        awaitRip(0, V + 0x1010);
        awaitRip(1, V + 0x1110);
        assertEquals(NOP, target.physicalByte(0x1008));
        assertEquals(GuestDebug.OFF, target.guestDebug(0));
        while (stub.attached()) {
            Thread.sleep(1);
        }
        assertTrue(log.stream().anyMatch(l -> l.startsWith("gdb: debugger disconnected")), log.toString());

        // And the server takes the next debugger, which finds the machine stopped.
        try (GdbTestClient again = new GdbTestClient(server.port())) {
            assertEquals("T05thread:01;", again.exchange("?"));
            assertEquals(le(V + 0x1010), again.exchange("p10"));
        }
    }

    @Test
    void garbageOversizeAndBadChecksumsCostALogLineEach() throws Exception {
        boot(false);
        try (GdbTestClient gdb = new GdbTestClient(server.port())) {
            gdb.sendRaw("GET / HTTP/1.1\r\n\r\n");
            gdb.sendRaw("$g#00");
            assertEquals('-', gdb.readByte());
            String huge = "M0,1:" + "0".repeat(3 * CommandHandler.PACKET_SIZE);
            gdb.sendRaw("$" + huge + "#" + Hex.number(Framing.checksum(huge), 2));
            assertEquals('+', gdb.readByte());
            assertEquals("", gdb.receive());
            assertEquals("T05thread:01;", gdb.exchange("?"), "still talking");
            assertEquals("E01", gdb.exchange("m" + hex(V) + ",zz"));
            assertEquals("9090", gdb.exchange("m" + hex(V + 0x1000) + ",2"));
        }
        while (stub.attached()) {
            Thread.sleep(1);
        }
        assertTrue(log.contains("gdb: ignored 18 bytes outside packets"), log.toString());
        assertTrue(log.contains("gdb: dropped a packet with a bad checksum"), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("gdb: dropped a packet of " + (huge().length()) + " bytes")), log.toString());
    }

    private static String huge() {
        return "M0,1:" + "0".repeat(3 * CommandHandler.PACKET_SIZE);
    }

    @Test
    void aSecondDebuggerIsRefusedWhileOneIsAttached() throws Exception {
        boot(false);
        try (GdbTestClient first = new GdbTestClient(server.port())) {
            assertEquals("T05thread:01;", first.exchange("?"));
            try (GdbTestClient second = new GdbTestClient(server.port())) {
                assertTrue(second.awaitClosed());
            }
            assertEquals("OK", first.exchange("Hg2"), "the first one is undisturbed");
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("a debugger is already attached")), log.toString());
    }

    @Test
    void theGuestsEndIsReportedAsAnExitStatus() throws Exception {
        boot(false);
        try (GdbTestClient gdb = new GdbTestClient(server.port())) {
            assertEquals("T05thread:01;", gdb.exchange("?"));
            gdb.send("c");
            stub.guestExited(3);
            assertEquals("W03", gdb.receive());
            assertTrue(gdb.awaitClosed());
        }
    }

    @Test
    void killEndsTheMachine() throws Exception {
        boot(false);
        try (GdbTestClient gdb = new GdbTestClient(server.port())) {
            gdb.exchange("?");
            gdb.send("k");
            assertTrue(gdb.awaitClosed());
        }
        assertTrue(target.killed);
    }

    @Test
    void monitorCommandsOverTheWire() throws Exception {
        boot(false);
        try (GdbTestClient gdb = new GdbTestClient(server.port())) {
            gdb.send("qRcmd," + Hex.text("info version"));
            assertEquals("O" + Hex.text("jkvm fake\n"), gdb.receive());
            assertEquals("OK", gdb.receive());
        }
    }

    @Test
    void listensOnAUnixSocket(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("gdb.sock");
        target.load(0x1000, NOP, HLT);
        stub = new GdbStub(target, true, log::add);
        server = GdbServer.start(GdbEndpoint.parse("unix:" + socket).orElseThrow(), stub, log::add);
        vcpus = new FakeVcpus(target, stub).start();
        assertEquals(-1, server.port());
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap("$?#3f".getBytes(StandardCharsets.ISO_8859_1)));
            ByteBuffer in = ByteBuffer.allocate(64);
            String got = "";
            while (!got.contains("#")) {
                ch.read(in);
                got = new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
            }
            assertTrue(got.startsWith("+$T05thread:01;#"), got);
        }
        server.close();
        server = null;
        assertTrue(Files.notExists(socket));
    }

    @Test
    void aPortInUseIsOneClearLine() throws IOException {
        boot(false);
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.jkvm.vmm.JkvmException.class,
                () -> GdbServer.start(new GdbEndpoint.Tcp("", server.port()), stub, log::add));
        assertTrue(e.getMessage().startsWith("gdb: cannot listen on tcp::" + server.port() + ": "), e.getMessage());
    }
}
