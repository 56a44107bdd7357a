package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FeatureBitsTest {

    private static final FeatureWord ECX = FeatureWord.LEAF1_ECX;
    private static final FeatureWord EDX = FeatureWord.LEAF1_EDX;
    private static final FeatureWord EXT = FeatureWord.EXT1_ECX;

    @Test
    void wordsAreSetChangedAndDropped() {
        FeatureBits b = FeatureBits.EMPTY.with(ECX, 1 << 25).plus(EDX, 3).plus(ECX, 1);
        assertEquals(1 << 25 | 1, b.get(ECX));
        assertEquals(3, b.get(EDX));
        assertEquals(0, b.get(EXT));
        assertTrue(b.has(ECX, 25));
        assertFalse(b.has(ECX, 24));
        assertEquals(Set.of(ECX, EDX), b.words());
        FeatureBits dropped = b.minus(EDX, 3);
        assertEquals(Set.of(ECX), dropped.words(), "a word with no bit left is not kept");
        assertEquals(0, dropped.get(EDX));
        assertEquals(3, b.get(EDX), "immutable");
        assertEquals(FeatureBits.EMPTY, FeatureBits.EMPTY.with(EXT, 0));
    }

    @Test
    void aWordIsFoundByValueNotOnlyAsTheConstant() {
        FeatureWord same = new FeatureWord(1, FeatureWord.NO_SUBLEAF, Register.ECX);
        FeatureBits b = FeatureBits.EMPTY.with(same, 5);
        assertEquals(5, b.get(ECX));
        assertEquals(Set.of(ECX), b.with(ECX, 7).words());
        assertEquals(7, b.with(ECX, 7).get(same));
    }

    @Test
    void equalityAndHashIgnoreTheOrderWordsWereSetIn() {
        FeatureBits a = FeatureBits.EMPTY.with(ECX, 1).with(EDX, 2).with(EXT, 4);
        FeatureBits b = FeatureBits.EMPTY.with(EXT, 4).with(ECX, 1).with(EDX, 2);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(Map.of(ECX, 1, EDX, 2, EXT, 4).hashCode(), a.hashCode(), "hashed as the map it was");
        assertEquals(a.toString(), b.toString());
        assertEquals("{CPUID.01H:ECX=00000001, CPUID.01H:EDX=00000002, CPUID.80000001H:ECX=00000004}", a.toString());
        assertNotEquals(a, b.with(EXT, 5));
        assertNotEquals(a, b.minus(EXT, 4));
    }
}
