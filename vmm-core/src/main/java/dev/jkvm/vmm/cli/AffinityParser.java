package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.host.CpuList;
import dev.jkvm.vmm.host.HostCpus;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code -vcpu-affinity 0@[2,3],1@[4-5]} (Cloud Hypervisor's syntax): host CPUs per vCPU index.
 * Every host CPU must be one this process may run on, so a typo is refused before the guest starts
 * rather than failing in {@code sched_setaffinity} later.
 */
final class AffinityParser {

    private static final Pattern ITEM = Pattern.compile("(\\d+)@\\[([^\\]]*)\\]");

    private AffinityParser() {
    }

    static Map<Integer, BitSet> parse(String text) {
        return parse(text, HostCpus.allowed());
    }

    static Map<Integer, BitSet> parse(String text, BitSet allowed) {
        Map<Integer, BitSet> out = new LinkedHashMap<>();
        Matcher m = ITEM.matcher(text);
        int at = 0;
        while (at < text.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("expected VCPU@[CPU,CPU-CPU,...] at '" + text.substring(at) + "'");
            }
            int vcpu = Integer.parseInt(m.group(1));
            BitSet cpus = CpuList.parse(m.group(2));
            if (cpus.isEmpty()) {
                throw new IllegalArgumentException("vCPU " + vcpu + " gets no host CPU");
            }
            BitSet outside = (BitSet) cpus.clone();
            outside.andNot(allowed);
            if (!outside.isEmpty()) {
                throw new IllegalArgumentException("host CPU " + CpuList.format(outside) + " is not available to jkvm (allowed: "
                        + CpuList.format(allowed) + ")");
            }
            if (out.put(vcpu, cpus) != null) {
                throw new IllegalArgumentException("vCPU " + vcpu + " is listed twice");
            }
            at = m.end();
            if (at < text.length()) {
                if (text.charAt(at) != ',') {
                    throw new IllegalArgumentException("expected ',' at '" + text.substring(at) + "'");
                }
                at++;
            }
        }
        return out;
    }
}
