package dev.jkvm.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The harness's arithmetic and output on fixed inputs: medians, ratios, verdicts, table, JSON, SVG. */
class ReportTest {

    private static final Row PORT_OUT = new Row("exits", "port out", "us/iter", Samples.of(9.0, 8.4, 8.8),
            Samples.of(8.0, 8.1, 7.9), "C", Target.ratioAtMost(1.05), "0 B/exit", "note");
    private static final Row HELLO = new Row("e2e", "hello: wall", "s", Samples.of(0.25, 0.27), Samples.NONE, "",
            Target.valueAtMost(0.3), "", "");

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, Samples.of(3, 1, 2).median());
        assertEquals(2.5, Samples.of(4, 1, 3, 2).median());
        assertTrue(Double.isNaN(Samples.NONE.median()));
        assertEquals(1.0, Samples.of(3, 1, 2).min());
        assertEquals(3.0, Samples.of(3, 1, 2).max());
    }

    @Test
    void medianLeavesItsInputAlone() {
        double[] values = {5, 1, 3};
        Samples.median(values);
        assertEquals(5.0, values[0]);
    }

    @Test
    void ratioIsJkvmOverBaselineAndMissingWithoutOne() {
        assertEquals(8.8 / 8.0, PORT_OUT.ratio(), 1e-12);
        assertTrue(Double.isNaN(HELLO.ratio()));
        assertTrue(Double.isNaN(Samples.ratio(1, 0)));
    }

    @Test
    void verdictsSayByHowMuchATargetIsMissed() {
        assertEquals("MISS +4.8%", PORT_OUT.verdict());      // 1.1 / 1.05 = 1.0476
        assertEquals("ok", HELLO.verdict());
        assertEquals("ok", Target.ratioAtMost(1.25).verdict(1.25, 0));
        assertEquals("MISS", Target.valueAtMost(0).verdict(Double.NaN, 12));
        assertEquals("ok", Target.valueAtMost(0).verdict(Double.NaN, 0));
        assertEquals("n/a", Target.ratioAtMost(1.05).verdict(Double.NaN, 3));
        assertEquals("", Target.NONE.verdict(2, 2));
        assertEquals("<= 60", Target.valueAtMost(60).describe());
        assertEquals("<= 1.05x", Target.ratioAtMost(1.05).describe());
    }

    @Test
    void tableAlignsColumnsAndShowsEveryCell() {
        String table = Table.render(List.of(PORT_OUT, HELLO));
        List<String> lines = table.lines().toList();
        assertEquals(4, lines.size());
        assertTrue(lines.get(0).startsWith("group  case"));
        assertTrue(lines.get(1).matches("[- ]+"));
        assertEquals("exits  port out     us/iter  8.80    8.00 C      1.10x  <= 1.05x  MISS +4.8%  0 B/exit", lines.get(2));
        assertEquals("e2e    hello: wall  s        0.26         -          -  <= 0.3    ok", lines.get(3));
    }

    @Test
    void jsonHoldsMediansSamplesAndNullForMissing() {
        Report r = new Report(Map.of("host", "vm \"a\""), List.of(PORT_OUT, HELLO),
                List.of(new Series("k guests", List.of(new Series.Point(1, 1000), new Series.Point(2, 1500.5)))),
                "rounds/s", List.of("line\none"));
        String json = Json.write(r);
        assertTrue(json.contains("\"host\": \"vm \\\"a\\\"\""), json);
        assertTrue(json.contains("\"case\": \"port out\", \"unit\": \"us/iter\", \"jkvm\": 8.8, \"baseline\": 8,"), json);
        assertTrue(json.contains("\"ratio\": 1.1,"), json);
        assertTrue(json.contains("\"jkvm_samples\": [9, 8.4, 8.8], \"baseline_samples\": [8, 8.1, 7.9]"), json);
        assertTrue(json.contains("\"baseline\": null"), json);
        assertTrue(json.contains("\"points\": [[1, 1000], [2, 1500.5]]"), json);
        assertTrue(json.contains("\"line\\none\""), json);
    }

    @Test
    void jsonNumbersAreValidJson() {
        assertEquals("null", Json.number(Double.NaN));
        assertEquals("3", Json.number(3.0));
        assertEquals("0.125", Json.number(0.125));
        assertEquals("1.5e-07", Json.number(1.5e-7));
    }

    @Test
    void ratioBarsColourEachRowByItsVerdict() {
        Row met = new Row("lifecycle", "VM", "us/VM", Samples.of(120), Samples.of(100), "C", Target.ratioAtMost(1.25), "", "");
        String svg = Svg.ratioBars("t <&>", List.of(PORT_OUT, HELLO, met));
        assertTrue(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assertTrue(svg.endsWith("</svg>\n"));
        assertTrue(svg.contains("t &lt;&amp;&gt;"));
        assertEquals(2, count(svg, "<rect x="), "one bar per row with a ratio (hello has none)");
        assertTrue(svg.contains("fill=\"" + Svg.MISSED + "\""));
        assertTrue(svg.contains("fill=\"" + Svg.MET + "\""));
        assertTrue(svg.contains(">1.10x<") && svg.contains(">1.20x<"));
    }

    @Test
    void lineChartDrawsOnePolylinePerSeriesWithAPointPerMeasurement() {
        List<Series> series = List.of(
                new Series("separate", List.of(new Series.Point(1, 10), new Series.Point(2, 20), new Series.Point(4, 20))),
                new Series("one guest", List.of(new Series.Point(1, 10), new Series.Point(2, 18), new Series.Point(4, 5))));
        String svg = Svg.lines("Overcommit", "vCPUs", "rounds/s", series);
        assertEquals(2, count(svg, "<polyline"));
        assertEquals(6, count(svg, "<circle"));
        assertTrue(svg.contains(">separate<") && svg.contains(">one guest<"));
        assertFalse(svg.contains("NaN"));
    }

    @Test
    void niceCeilingRoundsUpToOneTwoOrFive() {
        assertEquals(20.0, Svg.niceCeiling(13));
        assertEquals(5000.0, Svg.niceCeiling(4100));
        assertEquals(1.0, Svg.niceCeiling(0));
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
