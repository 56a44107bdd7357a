import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the shell sessions of a Markdown file and compares what they print with what the file
 * shows, so the README cannot drift from what a user gets (run by scripts/test/readme-sessions).
 *
 * A session is a fenced block with a line starting with "$ ". Every command runs from the
 * checkout's top directory in bash (stdin /dev/null, stdout and stderr into one stream, as a
 * terminal shows them; "echo $?" sees the previous command's status); the lines up to the next
 * "$ " line are its expected output. In the expected output, a line "..." (any indent) stands
 * for any number of lines. A "(qemu) CMD" line, in the output of a command with
 * "-monitor unix:PATH,server,nowait", sends CMD to that monitor once the lines above it have
 * been printed; the reply lines follow it. Paths under /tmp/ in commands are moved to a
 * directory of the session's own (and back again in what they print), and GDB's port (-s, -gdb tcp::N, target remote :N) to a free
 * one (several checkouts may run this at once). A command ending in "&" runs in the background
 * (the second terminal of a session): the commands after it start once its GDB port listens, and
 * its own output (the lines right under it) is compared when it has ended.
 *
 * An HTML comment right before the fence (blank lines between are fine) tunes the check, one
 * "key: value" per line:
 * <pre>
 *   &lt;!-- readme-check
 *   vary: tid \d+                 a regex: where it matches in a README line, any text it matches
 *                                 is accepted in the real line (thread ids, addresses, times)
 *   ignore: ^jkvm: building       a regex: real output lines it finds are dropped first
 *   timeout: 60                   seconds per command (default 120)
 *   --&gt;
 *   &lt;!-- readme-check skip: needs a second terminal --&gt;    not run (the reason is required)
 * </pre>
 */
public final class ReadmeSessions {

    record Directive(List<Pattern> vary, List<Pattern> ignore, String skip, int timeoutSeconds) {}

    record Step(String command, List<String> expected, int line) {}

    record Session(int line, Directive directive, List<Step> steps) {}

    static final Pattern TMP_PATH = Pattern.compile("(?<![\\w/.])/tmp/");
    static final Pattern MONITOR = Pattern.compile("-monitor unix:([^,\\s]+)");
    static final String PROMPT = "(qemu) ";

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: java ReadmeSessions.java FILE.md [TOP-DIR]");
            System.exit(2);
        }
        Path md = Path.of(args[0]);
        Path top = Path.of(args.length > 1 ? args[1] : ".").toAbsolutePath();
        List<Session> sessions;
        try {
            sessions = parse(Files.readAllLines(md));
        } catch (IllegalArgumentException e) {
            System.out.println("readme-sessions: " + md + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        int passed = 0, failed = 0, skipped = 0;
        for (Session s : sessions) {
            String where = md + ":" + s.line();
            if (s.directive().skip() != null) {
                skipped++;
                System.out.println("skip - " + where + " (" + s.directive().skip() + ")");
                continue;
            }
            String failure = run(s, top);
            if (failure == null) {
                passed++;
                System.out.println("ok - " + where + " " + s.steps().get(0).command());
            } else {
                failed++;
                System.out.println("not ok - " + where);
                System.out.println(failure.indent(4).stripTrailing());
            }
        }
        if (failed > 0) {
            System.out.println("""
                readme-sessions: the README shows output its commands no longer print. Put the real
                output in the block (it is printed above), or mark what legitimately moves with
                <!-- readme-check vary: REGEX -->, or, for what a test cannot run (a second terminal,
                the network), <!-- readme-check skip: REASON --> right before the block.""");
        }
        System.out.printf("readme-sessions: %d passed, %d failed, %d not run (marked skip)%n",
                passed, failed, skipped);
        System.exit(failed == 0 ? 0 : 1);
    }

    // ------------------------------------------------------------------ parsing

    static List<Session> parse(List<String> lines) {
        List<Session> sessions = new ArrayList<>();
        Directive pending = null;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            String t = l.strip();
            if (t.startsWith("<!-- readme-check")) {
                StringBuilder body = new StringBuilder(t);
                int start = i;
                while (!body.toString().contains("-->")) {
                    if (++i == lines.size()) throw new IllegalArgumentException(
                            "line " + (start + 1) + ": readme-check comment never closed");
                    body.append('\n').append(lines.get(i));
                }
                pending = directive(body.toString(), start + 1);
                continue;
            }
            if (t.startsWith("```")) {
                int open = i;
                List<String> block = new ArrayList<>();
                while (++i < lines.size() && !lines.get(i).strip().startsWith("```")) block.add(lines.get(i));
                Session s = session(block, open + 2, pending);
                if (s != null) sessions.add(s);
                else if (pending != null) throw new IllegalArgumentException(
                        "line " + (open + 1) + ": a readme-check comment before a block with no \"$ \" line");
                pending = null;
                continue;
            }
            if (!t.isEmpty()) pending = null; // a directive belongs to the block right after it
        }
        return sessions;
    }

    static Directive directive(String comment, int line) {
        String body = comment.substring(comment.indexOf("readme-check") + "readme-check".length());
        body = body.substring(0, body.lastIndexOf("-->"));
        List<Pattern> vary = new ArrayList<>(), ignore = new ArrayList<>();
        String skip = null;
        int timeout = 120;
        for (String entry : body.split("\n")) {
            String e = entry.strip();
            if (e.isEmpty()) continue;
            int colon = e.indexOf(':');
            if (colon < 0) throw new IllegalArgumentException("line " + line + ": not \"key: value\": " + e);
            String key = e.substring(0, colon).strip(), value = e.substring(colon + 1).strip();
            try {
                switch (key) {
                    case "vary" -> vary.add(Pattern.compile(value));
                    case "ignore" -> ignore.add(Pattern.compile(value));
                    case "timeout" -> timeout = Integer.parseInt(value);
                    case "skip" -> {
                        if (value.isEmpty()) throw new IllegalArgumentException("line " + line + ": skip needs a reason");
                        skip = value;
                    }
                    default -> throw new IllegalArgumentException("line " + line + ": unknown key " + key
                            + " (vary, ignore, timeout, skip)");
                }
            } catch (java.util.regex.PatternSyntaxException | NumberFormatException x) {
                throw new IllegalArgumentException("line " + line + ": " + key + ": " + x.getMessage());
            }
        }
        return new Directive(vary, ignore, skip, timeout);
    }

    /** The block's steps, or null when it has no "$ " line. {@code first}: the block's first line, 1-based. */
    static Session session(List<String> block, int first, Directive d) {
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < block.size(); i++) {
            String l = block.get(i);
            if (!l.startsWith("$ ")) {
                if (steps.isEmpty()) {
                    if (l.isBlank()) continue;
                    return null; // output before any command: not a session
                }
                steps.get(steps.size() - 1).expected().add(l);
                continue;
            }
            int line = first + i;
            StringBuilder cmd = new StringBuilder(l.substring(2));
            while (cmd.toString().endsWith("\\") && i + 1 < block.size()) {
                cmd.setLength(cmd.length() - 1);
                cmd.append(' ').append(block.get(++i).strip());
            }
            steps.add(new Step(cmd.toString().strip(), new ArrayList<>(), line));
        }
        if (steps.isEmpty()) return null;
        return new Session(first - 1, d == null ? new Directive(List.of(), List.of(), null, 120) : d, steps);
    }

    // ------------------------------------------------------------------ running

    /** A command started with "&": it runs beside the ones after it, its output compared when it ended. */
    record Background(Step step, Process process, Path out) {}

    /** Runs the session's steps; null when every output matched, else what went wrong. */
    static String run(Session s, Path top) throws Exception {
        Path tmp = Files.createTempDirectory("readme-sessions");
        List<Background> background = new ArrayList<>();
        try {
            Map<String, String> sockets = new LinkedHashMap<>();
            Map<String, String> ports = new LinkedHashMap<>();
            int status = 0;
            for (Step step : s.steps()) {
                // Paths under /tmp (monitor sockets, output files) go to this session's own directory.
                String cmd = TMP_PATH.matcher(step.command()).replaceAll(Matcher.quoteReplacement(tmp + "/"));
                cmd = gdbPorts(cmd, ports);
                Matcher m = MONITOR.matcher(cmd);
                while (m.find()) sockets.putIfAbsent(m.group(1), m.group(1));
                if (cmd.endsWith("&")) {
                    background.add(start(cmd.substring(0, cmd.length() - 1).strip(), step, tmp, top, ports));
                    continue;
                }
                Run r = execute(cmd, status, step, s.directive(), tmp, top, sockets);
                status = r.status();
                String failure = compare(step, r.output(), r.status(), r.error(), s.directive(), tmp);
                if (failure != null) return failure;
            }
            for (Background b : background) {
                String error = null;
                if (!b.process().waitFor(s.directive().timeoutSeconds(), TimeUnit.SECONDS)) {
                    error = "still running " + s.directive().timeoutSeconds() + " s after the session: stopped";
                }
                stop(b.process(), error != null);
                String failure = compare(b.step(), lines(b.out()), b.process().exitValue(), error, s.directive(), tmp);
                if (failure != null) return failure;
            }
            return null;
        } finally {
            for (Background b : background) stop(b.process(), true);
            // A few tries: a process that just ended may still be removing its own socket file.
            for (int attempt = 0; attempt < 5 && Files.exists(tmp); attempt++) {
                if (attempt > 0) Thread.sleep(200);
                try (var walk = Files.walk(tmp)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException | java.io.UncheckedIOException e) {
                    // a file went away during the walk: the next try sees what is left
                }
            }
        }
    }

    /** Null when the real output matches the step's, else both, for the report. */
    static String compare(Step step, List<String> output, int status, String error, Directive d, Path tmp) {
        List<String> actual = new ArrayList<>();
        for (String line : output) {
            String a = line.replace(tmp + "/", "/tmp/"); // what the command was given, it says back
            boolean drop = false;
            for (Pattern p : d.ignore()) drop |= p.matcher(a).find();
            if (!drop) actual.add(a);
        }
        if (error == null && matches(step.expected(), actual, d.vary())) return null;
        StringBuilder b = new StringBuilder();
        b.append("line ").append(step.line()).append(": $ ").append(step.command()).append('\n');
        if (error != null) b.append(error).append('\n');
        b.append("the README shows:\n");
        for (String e : step.expected()) b.append("  | ").append(e).append('\n');
        b.append("it printed (status ").append(status).append("):\n");
        for (String a : actual) b.append("  | ").append(a).append('\n');
        return b.toString();
    }

    /**
     * GDB's port 1234 ({@code -s}, {@code -gdb tcp::N}, {@code target remote :N}) becomes a free
     * port of this session's, so that sessions of several checkouts do not meet.
     */
    static String gdbPorts(String cmd, Map<String, String> ports) throws IOException {
        Matcher s = Pattern.compile("(?<=\\s)-s(?=\\s|$)").matcher(cmd);
        if (cmd.contains("jkvm") && s.find()) cmd = s.replaceAll("-gdb tcp::1234");
        Matcher tcp = Pattern.compile("-gdb tcp::(\\d+)").matcher(cmd);
        while (tcp.find()) ports.computeIfAbsent(tcp.group(1), k -> freePort());
        for (var e : ports.entrySet()) {
            cmd = cmd.replace("tcp::" + e.getKey(), "tcp::" + e.getValue())
                    .replace("remote :" + e.getKey(), "remote :" + e.getValue())
                    .replace("remote localhost:" + e.getKey(), "remote localhost:" + e.getValue());
        }
        return cmd;
    }

    static String freePort() {
        try (var socket = new java.net.ServerSocket(0)) {
            return Integer.toString(socket.getLocalPort());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Starts a background command; when it serves GDB, waits until its port listens. */
    static Background start(String cmd, Step step, Path tmp, Path top, Map<String, String> ports) throws Exception {
        Path out = Files.createTempFile(tmp, "bg", ".txt");
        Process p = new ProcessBuilder("bash", "-c", cmd).directory(top.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        Matcher tcp = Pattern.compile("-gdb tcp::(\\d+)").matcher(cmd);
        if (tcp.find()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!listening(Integer.parseInt(tcp.group(1))) && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        }
        return new Background(step, p, out);
    }

    /** Whether a TCP socket listens on {@code port} (from /proc/net/tcp*: connecting would be a debugger). */
    static boolean listening(int port) throws IOException {
        String hex = String.format(":%04X ", port);
        for (String f : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            Path file = Path.of(f);
            if (!Files.exists(file)) continue;
            for (String line : Files.readAllLines(file)) {
                String[] cols = line.strip().split("\\s+");
                if (cols.length > 3 && (cols[1] + " ").endsWith(hex) && cols[3].equals("0A")) return true;
            }
        }
        return false;
    }

    record Run(int status, List<String> output, String error) {}

    static Run execute(String cmd, int previousStatus, Step step, Directive d, Path tmp, Path top,
                       Map<String, String> sockets) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        // "(exit N);" gives the command the previous status as $?, as in one shell.
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "(exit " + previousStatus + "); " + cmd)
                .directory(top.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(d.timeoutSeconds());
        List<String> monitorLines = new ArrayList<>();
        String error = null;
        int firstMonitor = indexOfMonitor(step.expected());
        try {
            if (firstMonitor >= 0) {
                if (sockets.isEmpty()) {
                    error = "\"(qemu)\" lines, but the command has no -monitor unix:PATH,server,nowait";
                } else {
                    error = talkToMonitor(p, out, step.expected(), firstMonitor, d,
                            Path.of(sockets.values().iterator().next()), deadline, monitorLines);
                }
                stop(p, false); // the guest's own end is not part of a monitor session
            }
            if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                error = "still running after " + d.timeoutSeconds() + " s: stopped";
            }
        } finally {
            stop(p, true);
        }
        List<String> lines = new ArrayList<>(lines(out));
        lines.addAll(monitorLines);
        return new Run(firstMonitor >= 0 && error == null ? 0 : p.exitValue(), lines, error);
    }

    /** Ends the command and what it started (jkvm's JVM under bash and the launcher): SIGTERM, or SIGKILL. */
    static void stop(Process p, boolean force) throws Exception {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.add(p.toHandle());
        for (ProcessHandle h : all) if (force) h.destroyForcibly(); else h.destroy();
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                h.destroyForcibly();
                h.onExit().join();
            }
        }
    }

    static int indexOfMonitor(List<String> expected) {
        for (int i = 0; i < expected.size(); i++) if (expected.get(i).startsWith(PROMPT)) return i;
        return -1;
    }

    /** Waits until the process printed the lines above the first "(qemu)" line, then runs the monitor commands. */
    static String talkToMonitor(Process p, Path out, List<String> expected, int firstMonitor, Directive d,
                                Path socket, long deadline, List<String> transcript) throws Exception {
        // The lines above the monitor's must have been printed, and more may follow them.
        List<String> before = new ArrayList<>(expected.subList(0, firstMonitor));
        before.add("...");
        while (true) {
            if (matches(before, lines(out), d.vary()) && Files.exists(socket)) break;
            if (!p.isAlive()) return "the command ended before its monitor session";
            if (System.nanoTime() > deadline) return "timed out waiting for the output above the monitor lines";
            Thread.sleep(50);
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            InputStream in = Channels.newInputStream(ch);
            OutputStream os = Channels.newOutputStream(ch);
            readToPrompt(in); // the banner
            for (String e : expected.subList(firstMonitor, expected.size())) {
                if (!e.startsWith(PROMPT)) continue;
                String command = e.substring(PROMPT.length());
                transcript.add(PROMPT + command);
                os.write((command + "\n").getBytes(StandardCharsets.UTF_8));
                os.flush();
                String reply = readToPrompt(in);
                if (reply == null) return "the monitor closed the connection after " + command;
                reply.lines().map(String::stripTrailing).forEach(transcript::add);
            }
        }
        return null;
    }

    /** What the monitor sends before its next prompt; null at end of stream. */
    static String readToPrompt(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            b.append((char) c);
            if (b.length() >= PROMPT.length() && b.lastIndexOf(PROMPT) == b.length() - PROMPT.length()) {
                b.setLength(b.length() - PROMPT.length());
                return b.toString();
            }
        }
        return null;
    }

    static List<String> lines(Path f) throws IOException {
        String s = new String(Files.readAllBytes(f), StandardCharsets.UTF_8).replace("\r", "");
        if (s.isEmpty()) return List.of();
        return s.lines().map(String::stripTrailing).toList();
    }

    // ------------------------------------------------------------------ matching

    /** Whether the real lines match the README's: "..." lines match any run of lines. */
    static boolean matches(List<String> expected, List<String> actual, List<Pattern> vary) {
        List<Pattern> patterns = new ArrayList<>();
        for (String e : expected) patterns.add(e.strip().equals("...") ? null : linePattern(e.stripTrailing(), vary));
        // reach[j]: the first i expected lines can match the first j real lines
        boolean[] reach = new boolean[actual.size() + 1];
        reach[0] = true;
        for (Pattern p : patterns) {
            boolean[] next = new boolean[actual.size() + 1];
            for (int j = 0; j <= actual.size(); j++) {
                if (!reach[j]) continue;
                if (p == null) {
                    for (int k = j; k <= actual.size(); k++) next[k] = true;
                    break;
                }
                if (j < actual.size() && p.matcher(actual.get(j)).matches()) next[j + 1] = true;
            }
            reach = next;
        }
        return reach[actual.size()];
    }

    /** The README line as a regex: literal, except where a vary pattern matches it. */
    static Pattern linePattern(String line, List<Pattern> vary) {
        StringBuilder re = new StringBuilder();
        int pos = 0;
        while (pos < line.length()) {
            int bestStart = -1, bestEnd = -1;
            Pattern best = null;
            for (Pattern v : vary) {
                Matcher m = v.matcher(line);
                if (m.find(pos) && m.end() > m.start() && (bestStart < 0 || m.start() < bestStart)) {
                    bestStart = m.start(); bestEnd = m.end(); best = v;
                }
            }
            if (best == null) break;
            if (bestStart > pos) re.append(Pattern.quote(line.substring(pos, bestStart)));
            re.append("(?:").append(best.pattern()).append(')');
            pos = bestEnd;
        }
        if (pos < line.length()) re.append(Pattern.quote(line.substring(pos)));
        return Pattern.compile(re.toString());
    }
}
