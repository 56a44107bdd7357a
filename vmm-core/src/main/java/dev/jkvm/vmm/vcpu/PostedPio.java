package dev.jkvm.vmm.vcpu;

import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.PostedWrites;
import dev.jkvm.kvm.CoalescedRing;
import dev.jkvm.kvm.KvmException;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * KVM's coalesced PIO for one session: while a device's register only sends bytes out
 * ({@link PostedWrites}: COM1's THR with its interrupt off, as Linux's console and every polling
 * guest use it), KVM buffers the guest's writes there in the VM's {@link CoalescedRing} instead
 * of exiting to jkvm, and jkvm replays them, in order, as ordinary port writes: before it handles
 * any exit (so nothing the guest does later is seen before them), when a vCPU parks, when the
 * session closes, and every {@link #TICK_MILLIS} ms on one daemon thread of the process (a guest
 * that prints and then halts in the kernel never exits). A console byte then costs one exit to
 * user space (the LSR poll) instead of two.
 *
 * <p>Lock order: this object's lock, then the device's (a replay is a device write). Devices run
 * {@link #update} outside their own lock.
 */
public final class PostedPio implements AutoCloseable {

    /** The longest a posted byte waits when the guest makes no exit. */
    static final long TICK_MILLIS = 10;

    private record Zone(int port, PostedWrites device) {
    }

    private final VmFd vm;
    private final CoalescedRing ring;
    private final PortBus ports;
    private final List<Zone> zones;
    private final boolean[] registered;
    private final CoalescedRing.Writes replay = this::replay;
    private boolean closed;
    private long replayed;

    private PostedPio(VmFd vm, CoalescedRing ring, PortBus ports, List<Zone> zones) {
        this.vm = vm;
        this.ring = ring;
        this.ports = ports;
        this.zones = zones;
        this.registered = new boolean[zones.size()];
    }

    /**
     * Posts the writes of every {@link PostedWrites} device on {@code ports} that allows it now and
     * follows their changes; null when KVM cannot (no {@code KVM_CAP_COALESCED_PIO}) or no device can.
     */
    static PostedPio open(VmFd vm, VcpuFd anyVcpu, PortBus ports) {
        List<Zone> zones = new ArrayList<>();
        for (PortBus.Registration r : ports.devices()) {
            if (r.device() instanceof PostedWrites p) {
                zones.add(new Zone(r.base() + p.postedOffset(), p));
            }
        }
        if (zones.isEmpty() || !kvmPosts(vm)) {
            return null;
        }
        CoalescedRing ring = CoalescedRing.of(anyVcpu);
        if (ring == null) {
            return null;
        }
        PostedPio p = new PostedPio(vm, ring, ports, List.copyOf(zones));
        for (Zone z : p.zones) {
            z.device().onPostableChange(p::update);
        }
        p.update();
        Ticker.add(p);
        return p;
    }

    /** KVM_CAP_COALESCED_PIO, asked once a process: the same /dev/kvm answers for every VM. */
    private static volatile Boolean kvmPosts;

    private static boolean kvmPosts(VmFd vm) {
        Boolean known = kvmPosts;
        if (known == null) {
            known = vm.checkExtension(KvmConstants.KVM_CAP_COALESCED_PIO) > 0;
            kvmPosts = known;
        }
        return known;
    }

    /** Replays what KVM buffered, if anything: one read of the ring's two indices when it is empty (vCPU threads, while the session runs). */
    void drainIfAny() {
        if (ring.hasEntries()) {
            drain();
        }
    }

    /** The drain thread's look: never at a ring a closed session may have unmapped. */
    private synchronized void tick() {
        if (!closed && ring.hasEntries()) {
            drain();
        }
    }

    /** Replays every buffered write now. */
    synchronized void drain() {
        replayed += ring.drain(replay);
    }

    /** Writes replayed so far (each one a guest write that did not exit to jkvm). */
    public synchronized long replayed() {
        return replayed;
    }

    private void replay(boolean pio, long address, int size, long value) {
        if (pio && size <= 4) {
            ports.write((int) address & 0xffff, size, (int) value);
        }
    }

    /** Registers or unregisters each zone as its device now allows. */
    synchronized void update() {
        if (closed) {
            return;
        }
        for (int i = 0; i < zones.size(); i++) {
            Zone z = zones.get(i);
            boolean want = z.device().writesPostable();
            if (want == registered[i]) {
                continue;
            }
            try {
                if (want) {
                    vm.registerCoalescedPio(z.port(), 1);
                } else {
                    vm.unregisterCoalescedPio(z.port(), 1);
                }
                registered[i] = want;
            } catch (KvmException e) {
                // KVM refused: the zone stays as it was. Either way nothing is lost (a replay is
                // an ordinary write); a zone left registered only makes its effects come later.
            }
            if (!want) {
                drain(); // what came before the change, replayed before the guest goes on
            }
        }
    }

    /** Replays what is left and stops following the devices (the VM goes with the session). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        drain();
        closed = true;
        Ticker.remove(this);
        for (Zone z : zones) {
            z.device().onPostableChange(null);
        }
    }

    /** The process's one drain thread, started with the first session that posts and parked while none is open. */
    private static final class Ticker {
        private static final Set<PostedPio> OPEN = ConcurrentHashMap.newKeySet();
        private static Thread thread;

        static synchronized void add(PostedPio p) {
            OPEN.add(p);
            if (thread == null) {
                thread = Thread.ofPlatform().daemon().name("posted-pio-drain").start(Ticker::run);
            } else {
                LockSupport.unpark(thread);
            }
        }

        static void remove(PostedPio p) {
            OPEN.remove(p);
        }

        private static void run() {
            while (true) {
                if (OPEN.isEmpty()) {
                    LockSupport.park();
                    continue;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS));
                for (PostedPio p : OPEN) {
                    try {
                        p.tick();
                    } catch (RuntimeException e) {
                        // a device that throws on a replayed write loses that write, as on an exit
                    }
                }
            }
        }
    }
}
