package dev.jkvm.vmm.chardev;

import dev.jkvm.vmm.JkvmException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code -chardev}s of one command line, by id, and which frontend took each: as in QEMU a
 * chardev serves one frontend ({@code -serial chardev:ID}, {@code -mon chardev=ID},
 * {@code -device isa-debugcon,chardev=ID}); a second is refused with QEMU's "Device 'ID' is in use".
 *
 * <pre>{@code
 * ChardevRegistry r = new ChardevRegistry();
 * r.define(ChardevSpec.parse("file,id=log,path=bios.log"));
 * ChardevSpec log = r.claim("log", "-device isa-debugcon");
 * }</pre>
 */
public final class ChardevRegistry {

    private final Map<String, ChardevSpec> byId = new LinkedHashMap<>();
    private final Set<String> claimed = new HashSet<>();

    /**
     * Adds a chardev.
     *
     * @throws JkvmException when the id is taken (QEMU: "Duplicate ID 'ID' for chardev")
     */
    public void define(ChardevSpec spec) {
        if (byId.putIfAbsent(spec.id(), spec) != null) {
            throw new JkvmException("-chardev: Duplicate ID '" + spec.id() + "' for chardev");
        }
    }

    /** The chardev {@code id}, taken by {@code frontend}. */
    public ChardevSpec claim(String id, String frontend) {
        ChardevSpec spec = byId.get(id);
        if (spec == null) {
            throw new JkvmException(frontend + ": chardev '" + id + "' not found");
        }
        if (!claimed.add(id)) {
            throw new JkvmException(frontend + ": Device '" + id + "' is in use");
        }
        return spec;
    }

    /** Every chardev, in the order defined. */
    public List<ChardevSpec> all() {
        return List.copyOf(byId.values());
    }
}
