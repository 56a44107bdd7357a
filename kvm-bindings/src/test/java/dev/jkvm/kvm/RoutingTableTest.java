package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** {@code struct kvm_irq_routing} with irqchip entries, as KVM_SET_GSI_ROUTING takes it (linux/kvm.h). */
class RoutingTableTest {

    @Test
    void eachRouteIsAnIrqchipEntryOf48Bytes() {
        int[] gsi = {0, 1, 0, 23};
        int[] chip = {0, 0, 2, 2}; // PIC master, PIC master, I/O APIC, I/O APIC
        int[] pin = {0, 1, 2, 23};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = VmFd.routingTable(arena, gsi, chip, pin);
            assertEquals(8 + 48 * 4, r.byteSize());
            assertEquals(4, r.get(JAVA_INT, 0), "nr");
            assertEquals(0, r.get(JAVA_INT, 4), "flags");
            for (int i = 0; i < gsi.length; i++) {
                long at = 8 + 48L * i;
                assertEquals(gsi[i], r.get(JAVA_INT, at), "gsi");
                assertEquals(1, r.get(JAVA_INT, at + 4), "type KVM_IRQ_ROUTING_IRQCHIP");
                assertEquals(0, r.get(JAVA_INT, at + 8), "flags");
                assertEquals(0, r.get(JAVA_INT, at + 12), "pad");
                assertEquals(chip[i], r.get(JAVA_INT, at + 16), "u.irqchip.irqchip");
                assertEquals(pin[i], r.get(JAVA_INT, at + 20), "u.irqchip.pin");
                for (long rest = 24; rest < 48; rest += 4) {
                    assertEquals(0, r.get(JAVA_INT, at + rest), "the rest of the union");
                }
            }
        }
    }
}
