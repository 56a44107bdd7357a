package dev.jkvm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.bench.report.Report;
import dev.jkvm.bench.report.Row;
import dev.jkvm.bench.report.Samples;
import dev.jkvm.bench.report.Series;
import dev.jkvm.bench.report.Table;
import dev.jkvm.bench.report.Target;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The C baseline's output line, ExitRun's arithmetic, the overcommit table, the noise floor and the options, on fixed inputs. */
class CBaselineParseTest {

    @Test
    void parsesKeyValueLine() {
        Map<String, Long> m = CBaseline.parse("case=1 n=100000 cycles=2233807329 tsc_khz=2596122 wall_ns=860551838\n");
        assertEquals(2233807329L, m.get("cycles"));
        assertEquals(100000L, m.get("n"));
        assertEquals(5, m.size());
    }

    @Test
    void exitRunConvertsCyclesToMicroseconds() {
        ExitRun r = new ExitRun(1000, 2_600_000, 0, 1001);
        assertEquals(2600.0, r.cyclesPerIteration());
        assertEquals(1.0, r.microsPerIteration(2_600_000), 1e-12);
    }

    @Test
    void littleEndianWordsAsTheGuestReadsThem() {
        assertEquals(0x600dd00e, BenchGuest.le32(BenchGuest.le32(0x600dd00e)));
        assertEquals(0x0102030405060708L, BenchGuest.le64(new byte[] {8, 7, 6, 5, 4, 3, 2, 1}));
    }

    @Test
    void overcommitTableHasAColumnPerK() {
        String t = Table.overcommit(List.of(
                new Series("k guests x 1 vCPU", List.of(new Series.Point(1, 1000), new Series.Point(2, 2000))),
                new Series("1 guest x k vCPUs", List.of(new Series.Point(1, 990), new Series.Point(2, 1500)))));
        List<String> lines = t.lines().toList();
        assertEquals(3, lines.size());
        assertEquals("overcommit (lock rounds/s)           k=1         k=2", lines.get(0));
        assertEquals("1 guest x k vCPUs                  990.0        1500", lines.get(2));
    }

    @Test
    void noiseFloorIsTheWorstControlRow() {
        Row exit = new Row("exits", "port out", "us",
                Samples.of(2), Samples.of(1), "C",
                Target.NONE, "", "");
        Row empty = new Row("exits", "empty loop (no exit)", "us",
                Samples.of(1.03), Samples.of(1), "C",
                Target.NONE, "", "");
        Row cpuid = new Row("in-kernel", "cpuid", "cycles",
                Samples.of(95), Samples.of(100), "C",
                Target.NONE, "", "");
        String note = Report.noiseFloor(List.of(exit, empty, cpuid)).orElseThrow();
        assertTrue(note.contains("up to 5.0% between the two sides (cpuid)"), note);
        assertEquals(Optional.empty(), Report.noiseFloor(List.of(exit)));
    }

    @Test
    void optionsParseQuickAndGroups() {
        Bench.Options o = Bench.Options.parse("--quick", "--only", "exits,e2e", "--reps", "4");
        assertEquals(true, o.quick());
        assertEquals(4, o.reps());
        assertEquals(true, o.wants("e2e"));
        assertEquals(false, o.wants("jmh"));
        assertEquals(10_000, o.exitIterations());
        assertEquals(4, o.exitReps());
    }
}
