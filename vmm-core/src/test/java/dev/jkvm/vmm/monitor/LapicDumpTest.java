package dev.jkvm.vmm.monitor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** {@code info lapic} from a register page built here (no KVM needed): each field where the APIC keeps it. */
class LapicDumpTest {

    @Test
    void showsTheVectorsTheTimerAndTheIcrWhereTheApicKeepsThem() {
        ByteBuffer b = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x20, 1 << 24);          // ID 1
        b.putInt(0x80, 0x10);             // TPR
        b.putInt(0xf0, 0x1ff);            // SVR: enabled, spurious 255
        b.putInt(0x100 + 16 * 7, 1 << 12); // ISR: vector 236 (7 * 32 + 12)
        b.putInt(0x200 + 16 * 1, 1 << 16); // IRR: vector 48
        b.putInt(0x200 + 16 * 7, 1 << 12); // IRR: vector 236
        b.putInt(0x300, 0x4699);          // ICR: fixed, vector 0x99, assert
        b.putInt(0x310, 1 << 24);         // ICR2: APIC 1
        b.putInt(0x320, 0x000200ec);      // LVTT: periodic, vector 236
        b.putInt(0x350, 0x00010700);      // LINT0: ExtINT, masked
        b.putInt(0x380, 250051);
        b.putInt(0x390, 57281);
        b.putInt(0x3e0, 0x3);             // divide by 16
        String s = LapicDump.format(1, b.array(), new long[] {0x2000, 0x1000});
        for (String want : new String[] {"dumping local APIC state for CPU 1", "LVTT\t 0x000200ec", "periodic Fixed  (vec 236)",
                "LVT0\t 0x00010700 active-hi edge  masked", "ExtINT", "DCR=0x3 (divide by 16) initial_count = 250051 current_count = 57281",
                "TSC\t deadline=0x2000 now=0x1000 (ahead by 4096 cycles)", "SPIV\t 0x000001ff APIC enabled",
                "ICR\t 0x00004699 physical edge assert no-shorthand", "ICR2\t 0x01000000 cpu 1", "ISR\t 236\n", "IRR\t 48 236\n",
                "TMR\t (none)", "TPR 0x10", "ID 0x01"}) {
            assertTrue(s.contains(want), want + " in:\n" + s);
        }
        b.putInt(0x3e0, 0xb); // divide by 1
        assertTrue(LapicDump.format(0, b.array(), new long[0]).contains("(divide by 1)"));
        assertTrue(LapicDump.format(0, b.array(), new long[] {0, 5}).contains("deadline=0x0 now=0x5 (disarmed)"));
    }
}
