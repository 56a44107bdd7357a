package dev.jkvm.vmm;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The listeners of a machine's events, told on the thread that made the event happen (they must
 * return at once); one that throws does not disturb the guest or the other listeners.
 */
final class MachineEvents implements Consumer<MachineEvent> {

    private final List<Consumer<MachineEvent>> listeners = new CopyOnWriteArrayList<>();

    void add(Consumer<MachineEvent> listener) {
        listeners.add(listener);
    }

    @Override
    public void accept(MachineEvent e) {
        for (Consumer<MachineEvent> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ignored) {
                // a listener's failure is no reason to disturb the guest
            }
        }
    }
}
