package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SmpOptionTest {

    private static String refusal(String text) {
        return assertThrows(CpuConfigException.class, () -> sockets(text)).getMessage();
    }

    private static Topology sockets(String text) {
        return SmpOption.parse(text, SmpOption.Preference.SOCKETS, SmpOption.Limits.PC);
    }

    @Test
    void emptyIsOneCpu() {
        assertEquals(Topology.SINGLE, SmpOption.parse(""));
    }

    @Test
    void fullySpecifiedTopologyNumbersApicIdsDensely() {
        Topology t = SmpOption.parse("8,sockets=2,cores=2,threads=2");
        assertEquals(new Topology(8, 8, 2, 1, 2, 2), t);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < t.maxCpus(); i++) {
            ids.add(t.apicId(i));
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), ids);
    }

    @Test
    void bareCountPrefersSocketsWhenAskedTo() {
        assertEquals(new Topology(4, 4, 4, 1, 1, 1), sockets("4"));
        assertEquals(new Topology(4, 4, 4, 1, 1, 1), sockets("cpus=4"));
    }

    @Test
    void bareCountPrefersCoresByDefaultAsCurrentQemu() {
        assertEquals(new Topology(4, 4, 1, 1, 4, 1), SmpOption.parse("4"));
        assertEquals(new Topology(2, 4, 1, 1, 4, 1), SmpOption.parse("2,maxcpus=4"));
    }

    @Test
    void bareCountPrefersCoresWhenAskedTo() {
        assertEquals(new Topology(4, 4, 1, 1, 4, 1),
                SmpOption.parse("4", SmpOption.Preference.CORES, SmpOption.Limits.PC));
        assertEquals(new Topology(8, 8, 4, 1, 2, 1),
                SmpOption.parse("8,cores=2", SmpOption.Preference.CORES, SmpOption.Limits.PC));
    }

    @Test
    void missingLevelsAreDerived() {
        assertEquals(new Topology(8, 8, 2, 1, 4, 1), sockets("8,sockets=2"));
        assertEquals(new Topology(8, 8, 4, 1, 2, 1), sockets("8,cores=2"));
        assertEquals(new Topology(8, 8, 2, 1, 2, 2), sockets("8,sockets=2,cores=2"));
        assertEquals(new Topology(4, 4, 2, 1, 1, 2), sockets("cpus=4,threads=2"));
        assertEquals(new Topology(8, 8, 2, 2, 2, 1), sockets("8,dies=2,cores=2"));
    }

    @Test
    void countsFollowFromTheHierarchyWhenNotGiven() {
        assertEquals(new Topology(6, 6, 2, 1, 3, 1), SmpOption.parse("sockets=2,cores=3"));
    }

    @Test
    void maxcpusLeavesRoomForHotplug() {
        assertEquals(new Topology(2, 4, 4, 1, 1, 1), sockets("2,maxcpus=4"));
        assertEquals(new Topology(2, 4, 1, 1, 4, 1), sockets("2,maxcpus=4,sockets=1"));
    }

    @Test
    void hexNumbersAreAccepted() {
        assertEquals(16, SmpOption.parse("0x10").cpus());
    }

    @Test
    void zeroCpusIsRefused() {
        assertEquals("Invalid SMP CPUs 0. The min CPUs supported by machine 'pc' is 1", refusal("0"));
        assertEquals("Invalid SMP CPUs 0. The min CPUs supported by machine 'pc' is 1", refusal("cpus=0"));
    }

    @Test
    void otherZeroParametersAreRefused() {
        assertEquals("Invalid CPU topology: CPU topology parameters must be greater than zero",
                refusal("4,sockets=0"));
        assertEquals("Invalid CPU topology: CPU topology parameters must be greater than zero",
                refusal("4,maxcpus=0"));
    }

    @Test
    void productMustMatchMaxcpus() {
        assertEquals("Invalid CPU topology: product of the hierarchy must match maxcpus: "
                + "sockets (3) * dies (1) * cores (1) * threads (1) != maxcpus (4)",
                refusal("4,sockets=3,cores=1,threads=1,maxcpus=4"));
        assertEquals("Invalid CPU topology: product of the hierarchy must match maxcpus: "
                + "sockets (0) * dies (1) * cores (4) * threads (1) != maxcpus (2)", refusal("2,cores=4"));
    }

    @Test
    void maxcpusMustCoverCpus() {
        assertEquals("Invalid CPU topology: maxcpus must be equal to or greater than smp: "
                + "sockets (2) * dies (1) * cores (1) * threads (1) == maxcpus (2) < smp_cpus (4)",
                refusal("4,maxcpus=2"));
    }

    @Test
    void tooManyCpusAreRefused() {
        assertEquals("Invalid SMP CPUs 300. The max CPUs supported by machine 'pc' is 255", refusal("300"));
    }

    @Test
    void unknownKeysAndBadNumbersAreRefused() {
        assertEquals("Invalid parameter 'foo'", refusal("4,foo=1"));
        assertEquals("Parameter 'cpus' expects a number", refusal("four"));
        assertEquals("Parameter 'cores' expects a number", refusal("4,cores=-1"));
        assertEquals("Invalid parameter '2'", refusal("4,2"));
    }

    @Test
    void levelsThePcLacksAreRefused() {
        assertEquals("clusters > 1 not supported by this machine's CPU topology", refusal("4,clusters=2"));
        assertEquals(new Topology(4, 4, 4, 1, 1, 1), sockets("4,clusters=1"));
    }
}
