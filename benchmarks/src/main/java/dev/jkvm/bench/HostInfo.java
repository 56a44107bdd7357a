package dev.jkvm.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where a benchmark ran: host name, kernel, CPU, the KVM modules loaded (from /sys/module), the
 * clock source, the JDK, the date and the load at start, since numbers from a shared nested host
 * mean little without them.
 *
 * <pre>{@code
 * HostInfo.describe().forEach((k, v) -> System.out.println(k + ": " + v));
 * }</pre>
 */
public final class HostInfo {

    private HostInfo() {
    }

    public static Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("host", hostName());
        m.put("kernel", read("/proc/sys/kernel/osrelease"));
        m.put("cpu", cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs");
        m.put("kvm modules", kvmModules());
        m.put("clocksource", read("/sys/devices/system/clocksource/clocksource0/current_clocksource"));
        m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        m.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        m.put("load at start", read("/proc/loadavg"));
        return m;
    }

    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return read("/proc/sys/kernel/hostname");
        }
    }

    static String cpuModel() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    /** Every loaded module whose name starts with kvm, with its version when it has one. */
    static String kvmModules() {
        List<String> found = new ArrayList<>();
        try (Stream<Path> mods = Files.list(Path.of("/sys/module"))) {
            mods.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("kvm")).sorted().forEach(n -> {
                String v = read("/sys/module/" + n + "/version");
                found.add(v.equals("?") ? n : n + " " + v);
            });
        } catch (IOException e) {
            return "?";
        }
        return found.isEmpty() ? "none" : String.join(", ", found);
    }

    static String read(String path) {
        try {
            return Files.readString(Path.of(path)).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
