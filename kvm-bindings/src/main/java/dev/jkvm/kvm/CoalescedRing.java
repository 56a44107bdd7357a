package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jkvm.kvm.abi.KvmCoalescedMmio;
import dev.jkvm.kvm.abi.KvmCoalescedMmioRing;
import dev.jkvm.kvm.abi.KvmConstants;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * The VM's ring of coalesced writes ({@code struct kvm_coalesced_mmio_ring}): KVM appends a
 * guest's write to a zone registered with {@link VmFd#registerCoalescedPio} instead of exiting,
 * and the VMM replays the entries later, in order. One page, shared by all vCPUs of the VM, at
 * page {@code KVM_COALESCED_MMIO_PAGE_OFFSET} of every vCPU's mapping. When it is full, KVM
 * exits for the write as if no zone were registered.
 *
 * <p>KVM writes an entry and then, after a write barrier, {@code last}; the reader reads
 * {@code last} with acquire semantics, the entries, then publishes {@code first} with release.
 * One reader at a time: {@link #drain} callers must hold a common lock.
 */
public final class CoalescedRing {

    /** KVM's page size on x86-64: the ring's size and its offset unit in the vCPU mapping. */
    private static final long PAGE = 4096;
    /** Entries in the ring: KVM_COALESCED_MMIO_MAX, what fits in a page after first and last. */
    public static final int ENTRIES = (int) ((PAGE - KvmCoalescedMmioRing.COALESCED_MMIO) / KvmCoalescedMmio.SIZEOF);

    /** Receives each buffered write: a port (pio) or a guest-physical address, its size and bytes (little-endian). */
    @FunctionalInterface
    public interface Writes {
        void write(boolean pio, long address, int size, long value);
    }

    private final MemorySegment ring;

    private CoalescedRing(MemorySegment ring) {
        this.ring = ring;
    }

    /** The ring in {@code vcpu}'s mapping, or null when the mapping does not reach its page (no coalescing). */
    public static CoalescedRing of(VcpuFd vcpu) {
        long offset = KvmConstants.KVM_COALESCED_MMIO_PAGE_OFFSET * PAGE;
        MemorySegment run = vcpu.kvmRun();
        return run.byteSize() >= offset + PAGE ? new CoalescedRing(run.asSlice(offset, PAGE)) : null;
    }

    /** The ring over a page laid out as KVM lays it out (for tests: a ring no KVM fills). */
    static CoalescedRing over(MemorySegment page) {
        return new CoalescedRing(page.asSlice(0, PAGE));
    }

    /** Whether KVM has buffered writes not yet taken (no lock: a hint, exact only under the readers' lock). */
    public boolean hasEntries() {
        // (plain reads: this is on every exit's path, and drain reads last again with acquire)
        return ring.get(JAVA_INT, KvmCoalescedMmioRing.LAST) != ring.get(JAVA_INT, KvmCoalescedMmioRing.FIRST);
    }

    /**
     * Hands every buffered write to {@code to}, oldest first, and frees its entry; returns how many.
     * An entry KVM claims is not a real write of 1-8 bytes is skipped (counted, not replayed).
     */
    public int drain(Writes to) {
        int first = ring.get(JAVA_INT, KvmCoalescedMmioRing.FIRST);
        int last = (int) INT.getAcquire(ring, KvmCoalescedMmioRing.LAST);
        int n = 0;
        // Both indices are KVM's, taken modulo the ring: a value out of range is read modulo too.
        first = Math.floorMod(first, ENTRIES);
        last = Math.floorMod(last, ENTRIES);
        while (first != last) {
            long e = KvmCoalescedMmioRing.COALESCED_MMIO + (long) first * KvmCoalescedMmio.SIZEOF;
            int len = ring.get(JAVA_INT, e + KvmCoalescedMmio.LEN);
            if (len >= 1 && len <= KvmCoalescedMmio.DATA_LENGTH) {
                long value = 0;
                for (int i = len - 1; i >= 0; i--) {
                    value = (value << 8) | (ring.get(JAVA_BYTE, e + KvmCoalescedMmio.DATA + i) & 0xff);
                }
                to.write(ring.get(JAVA_INT, e + KvmCoalescedMmio.PIO) != 0, ring.get(JAVA_LONG, e + KvmCoalescedMmio.PHYS_ADDR),
                        len, value);
            }
            first = (first + 1) % ENTRIES;
            n++;
            INT.setRelease(ring, KvmCoalescedMmioRing.FIRST, first); // freed at once: a replay that throws does not run twice
        }
        return n;
    }

    /** An int of the ring by byte offset, for the acquire and release accesses. */
    private static final VarHandle INT = JAVA_INT.varHandle();
}
