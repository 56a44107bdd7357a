package dev.jkvm.bench.report;

/**
 * One line of the report: a case measured on jkvm and on a baseline (the C VMM, or QEMU), with its
 * target and what jkvm allocated.
 *
 * <pre>{@code
 * Row r = new Row("exits", "port out", "us/exit", Samples.of(8.4), Samples.of(8.2), "C",
 *         Target.ratioAtMost(1.05), "0 B/exit", "");
 * r.ratio();   // 1.024...
 * }</pre>
 *
 * @param group the section (exits, in-kernel, lifecycle, vcpus, end-to-end)
 * @param name the case
 * @param unit what the values are in (lower is better for every row)
 * @param jkvm jkvm's samples
 * @param baseline the baseline's samples
 * @param baselineName {@code C} or {@code QEMU}
 * @param target what the row should reach
 * @param alloc what jkvm allocated (already formatted), or empty
 * @param note a remark for the reader, or empty
 */
public record Row(String group, String name, String unit, Samples jkvm, Samples baseline, String baselineName,
                  Target target, String alloc, String note) {

    /** jkvm's median / the baseline's median; NaN when one side is missing. */
    public double ratio() {
        return Samples.ratio(jkvm.median(), baseline.median());
    }

    /** The target's verdict for this row. */
    public String verdict() {
        return target.verdict(ratio(), jkvm.median());
    }
}
