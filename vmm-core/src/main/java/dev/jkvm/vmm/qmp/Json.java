package dev.jkvm.vmm.qmp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON for QMP over jackson-core's streaming API: a text becomes plain Java values ({@link Map}
 * in key order, {@link List}, {@link String}, {@link Long} or {@link BigInteger}, {@link Double},
 * {@link Boolean}, {@code null}) and back, written byte for byte as QEMU writes it: {@code ", "}
 * and {@code ": "} between items, non-ASCII as {@code \\uXXXX}, and with {@code -qmp-pretty}
 * QEMU's four-space layout (an empty object is <code>{</code>, a line break, <code>}</code>).
 *
 * <pre>{@code
 * Object v = Json.parse("{'execute': 'query-status'}".getBytes());  // QEMU accepts single quotes
 * String s = Json.write(Map.of("return", Map.of()), false);         // {"return": {}}
 * }</pre>
 */
final class Json {

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(JsonFraming.MAX_NESTING + 1).build())
            .build();

    private Json() {
    }

    /** A text that is not JSON: {@code desc} is QEMU's kind of message ("JSON parse error, ..."). */
    static final class ParseError extends Exception {
        private static final long serialVersionUID = 1L;

        ParseError(String desc) {
            super(desc, null, false, false);
        }
    }

    /** Parses exactly one JSON value. */
    static Object parse(byte[] text) throws ParseError {
        try (JsonParser p = FACTORY.createParser(text)) {
            if (p.nextToken() == null) {
                throw new ParseError("JSON parse error, empty input");
            }
            Object v = value(p);
            if (p.nextToken() != null) {
                throw new ParseError("JSON parse error, trailing characters");
            }
            return v;
        } catch (JsonProcessingException e) {
            String m = e.getOriginalMessage();
            int nl = m.indexOf('\n');
            throw new ParseError("JSON parse error, " + (nl < 0 ? m : m.substring(0, nl)));
        } catch (IOException e) {
            throw new ParseError("JSON parse error, " + e.getMessage());
        }
    }

    private static Object value(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    m.put(name, value(p));
                }
                return m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    l.add(value(p));
                }
                return l;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT -> {
                return switch (p.getNumberType()) {
                    case INT, LONG -> p.getLongValue();
                    default -> p.getBigIntegerValue();
                };
            }
            case VALUE_NUMBER_FLOAT -> {
                return p.getDoubleValue();
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return null;
            }
            default -> throw new JsonProcessingException("unexpected " + t, p.currentLocation()) {
                private static final long serialVersionUID = 1L;
            };
        }
    }

    /** Writes {@code value} as QEMU would (compact or {@code -qmp-pretty}), without a line end. */
    static String write(Object value, boolean pretty) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.setPrettyPrinter(new QemuLayout(pretty));
            write(g, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void write(JsonGenerator g, Object v) throws IOException {
        switch (v) {
            case null -> g.writeNull();
            case Map<?, ?> m -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    g.writeFieldName(String.valueOf(e.getKey()));
                    write(g, e.getValue());
                }
                g.writeEndObject();
            }
            case List<?> l -> {
                g.writeStartArray();
                for (Object o : l) {
                    write(g, o);
                }
                g.writeEndArray();
            }
            case long[] a -> {
                g.writeStartArray();
                for (long x : a) {
                    g.writeNumber(x);
                }
                g.writeEndArray();
            }
            case String s -> g.writeString(s);
            case Boolean b -> g.writeBoolean(b);
            case Integer i -> g.writeNumber(i);
            case Long l -> g.writeNumber(l);
            case BigInteger b -> g.writeNumber(b);
            case Double d -> g.writeNumber(d);
            default -> throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
        }
    }

    /** QEMU's layout of JSON (qobject_to_json_pretty): compact with spaces, or four-space indented. */
    private static final class QemuLayout implements PrettyPrinter {
        private final boolean pretty;
        private int level;

        QemuLayout(boolean pretty) {
            this.pretty = pretty;
        }

        private void newline(JsonGenerator g) throws IOException {
            if (pretty) {
                g.writeRaw('\n');
                for (int i = 0; i < level; i++) {
                    g.writeRaw("    ");
                }
            }
        }

        @Override
        public void writeRootValueSeparator(JsonGenerator g) {
        }

        @Override
        public void writeStartObject(JsonGenerator g) throws IOException {
            g.writeRaw('{');
            level++;
        }

        @Override
        public void beforeObjectEntries(JsonGenerator g) throws IOException {
            newline(g);
        }

        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(": ");
        }

        @Override
        public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
            g.writeRaw(pretty ? "," : ", ");
            newline(g);
        }

        @Override
        public void writeEndObject(JsonGenerator g, int entries) throws IOException {
            level--;
            newline(g);
            g.writeRaw('}');
        }

        @Override
        public void writeStartArray(JsonGenerator g) throws IOException {
            g.writeRaw('[');
            level++;
        }

        @Override
        public void beforeArrayValues(JsonGenerator g) throws IOException {
            newline(g);
        }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(pretty ? "," : ", ");
            newline(g);
        }

        @Override
        public void writeEndArray(JsonGenerator g, int values) throws IOException {
            level--;
            newline(g);
            g.writeRaw(']');
        }
    }
}
