package dev.jkvm.vmm;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * What machines of one shape work out alike (their firmware tables, their resolved CPUs), kept for
 * the next machine of that shape: a bounded map of the most recently used shapes, shared by a
 * process's machines. The process's first value is not kept and no key is made or hashed for it,
 * and keys compare their fields by hand: a record's first hashCode bootstraps ObjectMethods, which
 * the AOT cache does not resolve ahead of time (~20 ms of a one-shot run's start-up).
 *
 * <pre>{@code
 * ShapeCache<Key, BoardShape> cache = new ShapeCache<>(16);
 * BoardShape shape = cache.get(() -> new Key(config, map), () -> build(config, map));
 * }</pre>
 */
public final class ShapeCache<K, V> {

    private final Map<K, V> map;
    private final AtomicBoolean firstSeen = new AtomicBoolean();

    /** Keeps at most {@code capacity} shapes, the least recently used leaving first. */
    public ShapeCache(int capacity) {
        map = Collections.synchronizedMap(new LinkedHashMap<>(capacity, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > capacity;
            }
        });
    }

    /** The value kept for {@code key}, or null (nothing kept yet: the key is not made). */
    public V find(Supplier<K> key) {
        return map.isEmpty() ? null : map.get(key.get());
    }

    /** Keeps {@code value} for {@code key}, unless it is the process's first; returns the value kept for the key. */
    public V keep(Supplier<K> key, V value) {
        if (!firstSeen.compareAndSet(false, true)) {
            V kept = map.putIfAbsent(key.get(), value);
            return kept != null ? kept : value;
        }
        return value;
    }

    /** The value kept for {@code key}, else the one {@code make} makes, kept. */
    public V get(Supplier<K> key, Supplier<V> make) {
        V v = find(key);
        return v != null ? v : keep(key, make.get());
    }
}
