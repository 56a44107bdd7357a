package dev.jkvm.vmm.snapshot;

/** How a restore went: pages written, whether only the dirty ones were looked at, its time. */
public record RestoreStats(long pages, boolean dirtyOnly, long nanos) {
}
