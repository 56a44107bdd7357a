package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Packet framing both ways: checksums, escapes, run-length encoding, and the incremental decoder. */
class FramingTest {

    private static String framed(String payload, boolean compress) {
        return new String(Framing.frame(payload, compress), StandardCharsets.ISO_8859_1);
    }

    private static List<Frame> decode(String bytes, int limit) {
        List<Frame> frames = new ArrayList<>();
        byte[] b = bytes.getBytes(StandardCharsets.ISO_8859_1);
        new FrameDecoder(limit, frames::add).feed(b, b.length);
        return frames;
    }

    @Test
    void checksumIsTheByteSumModulo256() {
        assertEquals(0x9a, Framing.checksum("OK"));
        assertEquals(0x67, Framing.checksum("g"));
        assertEquals(0, Framing.checksum(""));
        assertEquals((0xff * 3) & 0xff, Framing.checksum("\u00ff\u00ff\u00ff"));
    }

    @Test
    void framesWithTwoLowercaseHexDigits() {
        assertEquals("$OK#9a", framed("OK", false));
        assertEquals("$#00", framed("", false));
        assertEquals("$T05thread:01;#07", framed("T05thread:01;", false));
    }

    @Test
    void escapesTheFourSpecialBytesAndUnescapesThem() {
        String binary = "a#b$c}d*e";
        String escaped = Framing.escape(binary);
        assertEquals("a}\u0003b}\u0004c}]d}\ne", escaped);
        assertArrayEquals(binary.getBytes(StandardCharsets.ISO_8859_1), Framing.unescape(escaped));
        assertThrows(IllegalArgumentException.class, () -> Framing.unescape("ab}"));
    }

    @Test
    void runLengthEncodesRunsOfFourOrMore() {
        assertEquals("000", Framing.runLengthEncode("000"));
        assertEquals("0* ", Framing.runLengthEncode("0000"));        // 3 repeats: ' ' (32)
        assertEquals("0*!", Framing.runLengthEncode("00000"));
        // 6 and 7 repeats would be '#' and '$': cut the run at 5 repeats.
        assertEquals("0*\"0", Framing.runLengthEncode("0".repeat(7)));
        assertEquals("0*\"00", Framing.runLengthEncode("0".repeat(8)));
        assertEquals("0*%", Framing.runLengthEncode("0".repeat(9)));   // 8 repeats: '%'
        assertEquals("0*~0", Framing.runLengthEncode("0".repeat(99))); // 97 repeats at most
        for (char c : Framing.runLengthEncode("x".repeat(500)).toCharArray()) {
            assertFalse(c == '#' || c == '$', "count char must not be # or $");
        }
    }

    @Test
    void neverRunLengthEncodesAcrossAnEscape() {
        // "}]" is an escaped '}': the ']' after it must stay a pair, and the run after it is raw ']'s.
        String escaped = "}]" + "]".repeat(6);
        String encoded = Framing.runLengthEncode(escaped);
        assertEquals("}]]*\"", encoded);
        assertEquals(escaped, decodedPacket(encoded));
    }

    @Test
    void runLengthEncodingRoundTripsThroughTheDecoder() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            StringBuilder s = new StringBuilder();
            while (s.length() < 300) {
                char c = "0af9:;,x}".charAt(random.nextInt(9));
                s.append(String.valueOf(c).repeat(1 + random.nextInt(120)));
            }
            String payload = Framing.escape(s.toString());
            assertEquals(payload, decodedPacket(Framing.runLengthEncode(payload)));
        }
    }

    private static String decodedPacket(String body) {
        List<Frame> frames = decode("$" + body + "#" + Hex.number(Framing.checksum(body), 2), 100_000);
        assertEquals(1, frames.size(), frames.toString());
        return ((Frame.Packet) frames.getFirst()).payload();
    }

    @Test
    void decoderCutsPacketsAcksAndInterrupts() {
        String m = "m1000,4";
        List<Frame> frames = decode("+$g#67-\u0003$" + m + "#" + Hex.number(Framing.checksum(m), 2), 1000);
        assertEquals(List.of(new Frame.Ack(), new Frame.Packet("g"), new Frame.Nak(), new Frame.Interrupt(),
                new Frame.Packet("m1000,4")), frames);
    }

    @Test
    void decoderKeepsStateAcrossFeeds() {
        List<Frame> frames = new ArrayList<>();
        FrameDecoder d = new FrameDecoder(100, frames::add);
        for (byte b : "$qC#b4".getBytes(StandardCharsets.ISO_8859_1)) {
            d.feed(new byte[] {b}, 1);
        }
        assertEquals(List.of(new Frame.Packet("qC")), frames);
    }

    @Test
    void decoderReportsBadChecksumsGarbageAndRestarts() {
        assertEquals(List.of(new Frame.BadChecksum("g")), decode("$g#00", 100));
        assertEquals(List.of(new Frame.BadChecksum("g")), decode("$g#zz", 100));
        assertEquals(List.of(new Frame.Garbage(5), new Frame.Packet("g")), decode("hello$g#67", 100));
        // A '$' inside a packet starts over: the cut-off packet counts as garbage.
        assertEquals(List.of(new Frame.Garbage(4), new Frame.Packet("g")), decode("$abc$g#67", 100));
    }

    @Test
    void decoderDropsOversizePacketsWholeAndCarriesOn() {
        String big = "M0,1:" + "a".repeat(500);
        List<Frame> frames = decode("$" + big + "#" + Hex.number(Framing.checksum(big), 2) + "$g#67", 100);
        assertEquals(List.of(new Frame.Oversize(big.length()), new Frame.Packet("g")), frames);
        // A run-length expansion beyond the limit is oversize too.
        String bomb = "0*~0*~0*~0*~0*~";
        assertEquals(List.of(new Frame.Oversize(bomb.length())),
                decode("$" + bomb + "#" + Hex.number(Framing.checksum(bomb), 2), 100));
    }

    @Test
    void decoderExpandsRunsInIncomingPackets() {
        String body = "M0,4:0*\"00"; // '0', 5 repeats, "00": eight zeros
        assertEquals(List.of(new Frame.Packet("M0,4:00000000")), decode("$" + body + "#" + Hex.number(Framing.checksum(body), 2), 100));
    }
}
