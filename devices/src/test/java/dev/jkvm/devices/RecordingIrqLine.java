package dev.jkvm.devices;

import java.util.ArrayList;
import java.util.List;

/** An IrqLine that records every set() call, for tests. */
final class RecordingIrqLine implements IrqLine {
    final List<Boolean> calls = new ArrayList<>();

    @Override
    public synchronized void set(boolean level) {
        calls.add(level);
    }

    synchronized boolean level() {
        return !calls.isEmpty() && calls.get(calls.size() - 1);
    }

    synchronized List<Boolean> calls() {
        return List.copyOf(calls);
    }
}
