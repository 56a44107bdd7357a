package dev.jkvm.vmm.cpu;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * QEMU's {@code -smp [cpus=]n[,maxcpus=m][,sockets=s][,dies=d][,cores=c][,threads=t]}, with
 * QEMU's derivation of what is left out ({@code machine_parse_smp_config}) and its refusals, word
 * for word.
 *
 * <pre>{@code
 * Topology t = SmpOption.parse("8,sockets=2,cores=2,threads=2");
 * SmpOption.parse("2,maxcpus=4");   // 2 running, 4 possible: 1 socket of 4 cores
 * }</pre>
 *
 * <p>Derivation, when {@code cpus} or {@code maxcpus} is given: {@code maxcpus} defaults to
 * {@code cpus}; then with {@link Preference#SOCKETS} (QEMU's rule for machine types before 6.2)
 * a missing {@code sockets} is computed with missing cores and threads taken as 1, else a missing
 * {@code cores}; with {@link Preference#CORES} (QEMU's rule since 6.2) cores first, then sockets.
 * A still missing {@code threads} is computed last. With neither count given the missing levels
 * are 1 and the counts are their product. {@code dies} defaults to 1.
 */
public final class SmpOption {

    /** Which missing level absorbs the CPU count. */
    public enum Preference {
        /** {@code -smp 4} is 4 sockets of one core (pre-6.2 QEMU machine types). */
        SOCKETS,
        /** {@code -smp 4} is one socket of 4 cores (QEMU machine types 6.2 and later). */
        CORES
    }

    /** The machine's CPU limits, named in QEMU's messages. */
    public record Limits(String machine, int maxCpus) {
        /** QEMU's i440fx PC: at most 255 CPUs. */
        public static final Limits PC = new Limits("pc", 255);
    }

    private static final List<String> KEYS =
            List.of("cpus", "maxcpus", "sockets", "dies", "clusters", "modules", "books", "drawers", "cores", "threads");
    private static final List<String> UNSUPPORTED_LEVELS = List.of("clusters", "modules", "books", "drawers");

    private SmpOption() {
    }

    /** Parses with cores preferred, as QEMU's current {@code pc} machine types do, and the PC's limits. */
    public static Topology parse(String text) {
        return parse(text, Preference.CORES, Limits.PC);
    }

    /**
     * Parses {@code text} (the argument of {@code -smp}).
     *
     * @throws CpuConfigException with QEMU's one-line refusal
     */
    public static Topology parse(String text, Preference preference, Limits limits) {
        Map<String, Long> given = values(text);
        for (Map.Entry<String, Long> e : given.entrySet()) {
            if (e.getValue() == 0) {
                if (e.getKey().equals("cpus")) {
                    throw new CpuConfigException("Invalid SMP CPUs 0. The min CPUs supported by machine '"
                            + limits.machine() + "' is 1");
                }
                throw new CpuConfigException("Invalid CPU topology: CPU topology parameters must be greater than zero");
            }
        }
        for (String level : UNSUPPORTED_LEVELS) {
            if (given.getOrDefault(level, 1L) > 1) {
                throw new CpuConfigException(level + " > 1 not supported by this machine's CPU topology");
            }
        }
        long cpus = given.getOrDefault("cpus", 0L);
        long maxcpus = given.getOrDefault("maxcpus", 0L);
        long sockets = given.getOrDefault("sockets", 0L);
        long dies = given.getOrDefault("dies", 1L);
        long cores = given.getOrDefault("cores", 0L);
        long threads = given.getOrDefault("threads", 0L);

        if (cpus == 0 && maxcpus == 0) {
            sockets = sockets > 0 ? sockets : 1;
            cores = cores > 0 ? cores : 1;
            threads = threads > 0 ? threads : 1;
        } else {
            maxcpus = maxcpus > 0 ? maxcpus : cpus;
            if (preference == Preference.SOCKETS) {
                if (sockets == 0) {
                    cores = cores > 0 ? cores : 1;
                    threads = threads > 0 ? threads : 1;
                    sockets = maxcpus / product(dies, cores, threads, 1);
                } else if (cores == 0) {
                    threads = threads > 0 ? threads : 1;
                    cores = maxcpus / product(sockets, dies, threads, 1);
                }
            } else {
                if (cores == 0) {
                    sockets = sockets > 0 ? sockets : 1;
                    threads = threads > 0 ? threads : 1;
                    cores = maxcpus / product(sockets, dies, threads, 1);
                } else if (sockets == 0) {
                    threads = threads > 0 ? threads : 1;
                    sockets = maxcpus / product(dies, cores, threads, 1);
                }
            }
            if (threads == 0) {
                threads = maxcpus / product(sockets, dies, cores, 1);
            }
        }
        long total = product(sockets, dies, cores, threads);
        maxcpus = maxcpus > 0 ? maxcpus : total;
        cpus = cpus > 0 ? cpus : maxcpus;

        String hierarchy = "sockets (" + sockets + ") * dies (" + dies + ") * cores (" + cores + ") * threads ("
                + threads + ")";
        if (total != maxcpus) {
            throw new CpuConfigException("Invalid CPU topology: product of the hierarchy must match maxcpus: "
                    + hierarchy + " != maxcpus (" + maxcpus + ")");
        }
        if (maxcpus < cpus) {
            throw new CpuConfigException("Invalid CPU topology: maxcpus must be equal to or greater than smp: "
                    + hierarchy + " == maxcpus (" + maxcpus + ") < smp_cpus (" + cpus + ")");
        }
        if (maxcpus > limits.maxCpus()) {
            throw new CpuConfigException("Invalid SMP CPUs " + maxcpus + ". The max CPUs supported by machine '"
                    + limits.machine() + "' is " + limits.maxCpus());
        }
        return new Topology((int) cpus, (int) maxcpus, (int) sockets, (int) dies, (int) cores, (int) threads);
    }

    /**
     * The product of up to four 32-bit counts, saturated at {@code Long.MAX_VALUE}: four counts of
     * 2^31 overflow a long (QEMU 7.2 itself dies of SIGFPE on such a line), and a saturated product
     * is still larger than any maxcpus, so the line is refused with QEMU's message.
     */
    private static long product(long a, long b, long c, long d) {
        long p = 1;
        for (long v : new long[] {a, b, c, d}) {
            p = v != 0 && p > Long.MAX_VALUE / v ? Long.MAX_VALUE : p * v;
        }
        return p;
    }

    /** The {@code key=value} pairs; a leading bare number is {@code cpus}, as QEMU's implied key. */
    private static Map<String, Long> values(String text) {
        Map<String, Long> values = new LinkedHashMap<>();
        if (text.isEmpty()) {
            return values;
        }
        String[] parts = text.split(",", -1);
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            int eq = part.indexOf('=');
            String key;
            String value;
            if (eq < 0) {
                if (i != 0) {
                    throw new CpuConfigException("Invalid parameter '" + part + "'");
                }
                key = "cpus";
                value = part;
            } else {
                key = part.substring(0, eq);
                value = part.substring(eq + 1);
            }
            if (!KEYS.contains(key)) {
                throw new CpuConfigException("Invalid parameter '" + key + "'");
            }
            values.put(key, number(key, value));
        }
        return values;
    }

    private static long number(String key, String value) {
        try {
            long n = CpuOption.parseCNumber(value.strip());
            // Anything past 32 bits is as impossible as it is large; keep the arithmetic exact.
            if (n < 0 || n > 0xffffffffL) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new CpuConfigException("Parameter '" + key + "' expects a number");
        }
    }
}
