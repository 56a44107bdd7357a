package dev.jkvm.devices;

import java.util.ArrayList;
import java.util.List;

/** A SystemControl that records the requests, for tests: "reset", "powerOff", "sleep N". */
final class RecordingSystemControl implements SystemControl {
    private final List<String> calls = new ArrayList<>();

    @Override
    public synchronized void reset() {
        calls.add("reset");
    }

    @Override
    public synchronized void powerOff() {
        calls.add("powerOff");
    }

    @Override
    public synchronized void sleep(int slpTyp) {
        calls.add("sleep " + slpTyp);
    }

    synchronized List<String> calls() {
        return List.copyOf(calls);
    }
}
