package dev.jkvm.vmm.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** jkvm's JSON is QEMU's, byte for byte: the texts below are real QEMU 7.2 output (CR LF aside). */
class JsonTest {

    private static Object parse(String s) throws Json.ParseError {
        return Json.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void compactIsQemusLayout() throws Exception {
        String qemu = "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, \"id\": {\"a\": [1, 2]}}";
        assertEquals(qemu, Json.write(parse(qemu), false));
        assertEquals("{\"return\": {}}", Json.write(Map.of("return", Map.of()), false));
        assertEquals("{\"return\": []}", Json.write(Map.of("return", List.of()), false));
    }

    @Test
    void prettyIsQemusLayout() throws Exception {
        String qemu = """
                {
                    "timestamp": {
                        "seconds": 1796143672,
                        "microseconds": 200375
                    },
                    "event": "SHUTDOWN",
                    "data": {
                        "guest": false,
                        "reason": "host-qmp-quit"
                    }
                }""";
        assertEquals(qemu, Json.write(parse(qemu), true));
        assertEquals("{\n    \"return\": {\n    }\n}", Json.write(parse("{\"return\": {}}"), true));
        assertEquals("{\n    \"return\": [\n        1,\n        2\n    ]\n}", Json.write(parse("{\"return\": [1, 2]}"), true));
    }

    @Test
    void readsWhatQemuReads() throws Exception {
        assertEquals(Map.of("execute", "query-name"), parse("{'execute': 'query-name'}")); // QEMU's single quotes
        Map<?, ?> m = (Map<?, ?>) parse("{\"a\": 9223372036854775807, \"b\": 18446744073709551615, \"c\": 1.5, \"d\": null}");
        assertEquals(Long.MAX_VALUE, m.get("a"));
        assertEquals(new BigInteger("18446744073709551615"), m.get("b"));
        assertEquals(1.5, m.get("c"));
        assertTrue(m.containsKey("d"));
        assertEquals("\\u00e9", Json.write("é", false).replace("\"", "").toLowerCase(java.util.Locale.ROOT)); // escaped, as QEMU does
    }

    @Test
    void refusesWhatIsNotJson() {
        for (String bad : List.of("{\"execute\": foo}", "{\"a\": 1, \"a\": 2}", "{\"a\" 1}", "[1,]", "{} {}")) {
            Json.ParseError e = assertThrows(Json.ParseError.class, () -> parse(bad), bad);
            assertTrue(e.getMessage().startsWith("JSON parse error, "), e.getMessage());
        }
    }

    @Test
    void framingSplitsTheStreamWhereTheOutermostValueEnds() {
        List<String> out = new ArrayList<>();
        JsonFraming f = new JsonFraming(1 << 20);
        String stream = "{\"execute\":\n \"stop\"}{\"execute\": \"a}\\\"\"}['x', \"]\"] 42 true\n{'a': '}'}";
        for (byte b : stream.getBytes(StandardCharsets.UTF_8)) {
            f.push(b, fr -> out.add(fr instanceof JsonFraming.Text t ? new String(t.bytes(), StandardCharsets.UTF_8) : "refused"));
        }
        assertEquals(List.of("{\"execute\":\n \"stop\"}", "{\"execute\": \"a}\\\"\"}", "['x', \"]\"]", "42", "true",
                "{'a': '}'}"), out);
    }

    @Test
    void framingRefusesOversizeAndDeepTextsOnceAndGoesOn() {
        List<String> out = new ArrayList<>();
        String big = "{\"execute\": \"" + "x".repeat(5000) + "\"}";
        String deep = "[".repeat(JsonFraming.MAX_NESTING + 5) + "]".repeat(JsonFraming.MAX_NESTING + 5);
        for (int max : new int[] {4096, 1 << 20}) {
            JsonFraming f = new JsonFraming(max);
            for (byte b : ((max == 4096 ? big : deep) + "}{\"ok\": 1}").getBytes(StandardCharsets.UTF_8)) {
                f.push(b, fr -> out.add(fr instanceof JsonFraming.Text t ? new String(t.bytes(), StandardCharsets.UTF_8)
                        : ((JsonFraming.Refused) fr).desc()));
            }
        }
        assertEquals(List.of("JSON message size limit (4096 bytes) exceeded", "JSON parse error, stray '}'", "{\"ok\": 1}",
                "JSON nesting depth limit exceeded", "JSON parse error, stray '}'", "{\"ok\": 1}"), out);
    }
}
