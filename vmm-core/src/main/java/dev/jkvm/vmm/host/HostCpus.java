package dev.jkvm.vmm.host;

import dev.jkvm.kvm.Libc;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;

/**
 * The host's processors as jkvm sees them: how many are online, which this process may use, and
 * which the kernel isolated from the scheduler ({@code isolcpus=}), the CPUs the textbook says to
 * pin vCPUs to.
 */
public final class HostCpus {

    private static final Path ISOLATED = Path.of("/sys/devices/system/cpu/isolated");

    private HostCpus() {
    }

    private static final Path ONLINE = Path.of("/sys/devices/system/cpu/online");

    /** Online logical CPUs: the list glibc's {@code sysconf(_SC_NPROCESSORS_ONLN)} reads too. */
    public static int online() {
        try {
            return Math.max(1, CpuList.parse(Files.readString(ONLINE).strip()).cardinality());
        } catch (IOException | IllegalArgumentException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    private static final Path CPUINFO = Path.of("/proc/cpuinfo");
    /** Enough of /proc/cpuinfo for the first processor's lines. */
    private static final int CPUINFO_HEAD = 4096;

    /** The first processor's {@code model name} in /proc/cpuinfo (its brand string, as Linux trims it); empty if none. */
    public static String modelName() {
        try (InputStream in = Files.newInputStream(CPUINFO)) {
            String head = new String(in.readNBytes(CPUINFO_HEAD), StandardCharsets.ISO_8859_1);
            for (String line : head.lines().toList()) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException e) {
            // no /proc: no brand
        }
        return "";
    }

    /** The CPUs this process may run on. */
    public static BitSet allowed() {
        return Libc.schedGetaffinity(0);
    }

    /** The isolated CPUs; empty when none (or when the kernel does not say). */
    public static BitSet isolated() {
        try {
            return CpuList.parse(Files.readString(ISOLATED).strip());
        } catch (IOException | IllegalArgumentException e) {
            return new BitSet();
        }
    }

    /** Whether thread {@code tid} of this process is asleep now (state S or D), as a vCPU in a guest's HLT is. */
    public static boolean asleep(int tid) {
        char state = TaskStat.state(tid);
        return state == 'S' || state == 'D';
    }

    /** The CPU thread {@code tid} of this process last ran on ({@code /proc/self/task/TID/stat}, field 39), or -1. */
    public static int lastCpuOf(int tid) {
        String[] f = TaskStat.fields(tid);
        return f == null ? -1 : Integer.parseInt(f[39 - 3]);
    }
}
