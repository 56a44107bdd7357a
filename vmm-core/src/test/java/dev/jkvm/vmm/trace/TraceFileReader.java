package dev.jkvm.vmm.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A written trace, read back strictly (the JSON file, or the data inside the HTML page). */
record TraceFileReader(List<Map<String, Object>> events, Map<String, Object> otherData) {

    /** One complete ("X") event: start and duration in nanoseconds. */
    record Span(String cat, String name, int tid, long startNanos, long durNanos, Map<String, Object> args) {
        long endNanos() {
            return startNanos + durNanos;
        }
    }

    @SuppressWarnings("unchecked")
    static TraceFileReader read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (file.toString().endsWith(".html")) {
            String open = "<script id=\"trace-data\" type=\"application/json\">";
            int a = text.indexOf(open);
            int b = text.indexOf("</script>", a);
            if (a < 0 || b < 0) {
                throw new IllegalArgumentException("no trace data in " + file);
            }
            text = text.substring(a + open.length(), b);
        }
        Map<String, Object> root = (Map<String, Object>) MiniJson.parse(text);
        List<Map<String, Object>> events = new ArrayList<>();
        for (Object o : (List<Object>) root.get("traceEvents")) {
            events.add((Map<String, Object>) o);
        }
        return new TraceFileReader(events, (Map<String, Object>) root.get("otherData"));
    }

    static long nanos(Object micros) {
        return Math.round(((Double) micros) * 1000);
    }

    static int tid(Map<String, Object> e) {
        return ((Double) e.get("tid")).intValue();
    }

    /** Thread names by tid, from the thread_name metadata. */
    @SuppressWarnings("unchecked")
    Map<Integer, String> threadNames() {
        Map<Integer, String> out = new TreeMap<>();
        for (Map<String, Object> e : events) {
            if ("M".equals(e.get("ph")) && "thread_name".equals(e.get("name"))) {
                out.put(tid(e), (String) ((Map<String, Object>) e.get("args")).get("name"));
            }
        }
        return out;
    }

    /** The process name from its metadata. */
    @SuppressWarnings("unchecked")
    String processName() {
        for (Map<String, Object> e : events) {
            if ("M".equals(e.get("ph")) && "process_name".equals(e.get("name"))) {
                return (String) ((Map<String, Object>) e.get("args")).get("name");
            }
        }
        return null;
    }

    /** The complete events of category {@code cat} in file order. */
    @SuppressWarnings("unchecked")
    List<Span> spans(String cat) {
        List<Span> out = new ArrayList<>();
        for (Map<String, Object> e : events) {
            if ("X".equals(e.get("ph")) && cat.equals(e.get("cat"))) {
                out.add(new Span(cat, (String) e.get("name"), tid(e), nanos(e.get("ts")), nanos(e.get("dur")),
                        (Map<String, Object>) e.getOrDefault("args", Map.of())));
            }
        }
        return out;
    }

    /** The counter samples of tid {@code tid}: the value of {@code counter} in each sample that has it. */
    @SuppressWarnings("unchecked")
    List<Long> counter(int tid, String counter) {
        List<Long> out = new ArrayList<>();
        for (Map<String, Object> e : events) {
            if ("C".equals(e.get("ph")) && tid(e) == tid) {
                Object v = ((Map<String, Object>) e.get("args")).get(counter);
                if (v != null) {
                    out.add(((Double) v).longValue());
                }
            }
        }
        return out;
    }

    /** Names of the instant events (markers). */
    List<String> markers() {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> e : events) {
            if ("i".equals(e.get("ph"))) {
                out.add((String) e.get("name"));
            }
        }
        return out;
    }

    /** CLOCK_MONOTONIC (System.nanoTime) at ts 0. */
    long originNanos() {
        return ((Double) otherData.get("origin_ns")).longValue();
    }
}
