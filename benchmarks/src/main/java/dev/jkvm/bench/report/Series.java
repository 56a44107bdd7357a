package dev.jkvm.bench.report;

import java.util.List;

/**
 * One line of a line chart: y measured at each x (the overcommit results: work per second at k
 * vCPUs, for one setup).
 *
 * <pre>{@code
 * new Series("k guests x 1 vCPU", List.of(new Series.Point(1, 5.2e6), new Series.Point(2, 9.8e6)));
 * }</pre>
 */
public record Series(String name, List<Point> points) {

    public Series {
        points = List.copyOf(points);
    }

    /** One measurement. */
    public record Point(double x, double y) {
    }
}
