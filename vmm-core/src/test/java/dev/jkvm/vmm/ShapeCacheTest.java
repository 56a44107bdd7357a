package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ShapeCacheTest {

    @Test
    void theFirstValueIsNotKeptAndItsKeyNeverMade() {
        ShapeCache<String, Object> cache = new ShapeCache<>(4);
        AtomicInteger keys = new AtomicInteger();
        Object first = cache.get(() -> "k" + keys.incrementAndGet(), Object::new);
        assertEquals(0, keys.get(), "no key made for the process's first value");
        Object second = cache.get(() -> "k", Object::new);
        Object third = cache.get(() -> "k", Object::new);
        assertSame(second, third, "the second is kept");
        assertNull(cache.find(() -> "other"));
        assertEquals(false, first == second);
    }

    @Test
    void theLeastRecentlyUsedShapeLeavesFirst() {
        ShapeCache<Integer, Integer> cache = new ShapeCache<>(2);
        cache.keep(() -> 0, 0); // the first: not kept
        cache.keep(() -> 1, 1);
        cache.keep(() -> 2, 2);
        cache.find(() -> 1);    // 1 used last
        cache.keep(() -> 3, 3); // 2 leaves
        assertEquals(1, cache.find(() -> 1));
        assertNull(cache.find(() -> 2));
        assertEquals(3, cache.find(() -> 3));
        assertSame(cache.find(() -> 3), cache.keep(() -> 3, 33), "a key kept already keeps its value");
    }
}
