package dev.jkvm.vmm.trace;

import java.nio.file.Path;

/**
 * What a trace file holds once written.
 *
 * @param path the file
 * @param events trace events written (metadata, spans, markers, counter samples)
 * @param bytes the file's size without its closing tail
 * @param exits user-mode exits written as spans
 * @param dropped records the vCPUs dropped because the writer was a whole ring behind
 * @param cut whether the event limit cut the trace
 * @param recordsNotWritten records drained after the cut
 */
public record TraceSummary(Path path, long events, long bytes, long exits, long dropped, boolean cut, long recordsNotWritten) {
}
