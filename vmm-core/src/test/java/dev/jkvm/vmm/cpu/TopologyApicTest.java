package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TopologyApicTest {

    private static List<Integer> apicIds(Topology t) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < t.maxCpus(); i++) {
            ids.add(t.apicId(i));
        }
        return ids;
    }

    @Test
    void threeCoresWidenTheCoreFieldToTwoBits() {
        Topology t = SmpOption.parse("6,sockets=2,cores=3");
        assertEquals(2, t.coreBits());
        assertEquals(List.of(0, 1, 2, 4, 5, 6), apicIds(t));
    }

    @Test
    void threeCoresOfTwoThreads() {
        Topology t = SmpOption.parse("12,sockets=2,cores=3,threads=2");
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13), apicIds(t));
        assertEquals(3, t.packageShift());
    }
}
