package dev.jkvm.vmm.acpi.aml;

/**
 * The compressed EISA ID of ASL's {@code EISAID("PNP0501")}: three letters of 5 bits each (A = 1)
 * in a big-endian 16-bit word, then four hex digits as two bytes, read as a little-endian DWORD.
 *
 * <pre>{@code
 * EisaId.encode("PNP0501") == 0x0105D041
 * }</pre>
 */
public final class EisaId {

    private EisaId() {
    }

    public static int encode(String id) {
        if (id.length() != 7) {
            throw new IllegalArgumentException("EISA ID \"" + id + "\" is not 3 letters and 4 hex digits");
        }
        int letters = 0;
        for (int i = 0; i < 3; i++) {
            char c = id.charAt(i);
            if (c < 'A' || c > 'Z') {
                throw new IllegalArgumentException("EISA ID \"" + id + "\" must start with 3 capital letters");
            }
            letters = letters << 5 | (c - '@');
        }
        int product = 0;
        for (int i = 3; i < 7; i++) {
            int d = Character.digit(id.charAt(i), 16);
            if (d < 0 || Character.isLowerCase(id.charAt(i))) {
                throw new IllegalArgumentException("EISA ID \"" + id + "\" must end with 4 upper-case hex digits");
            }
            product = product << 4 | d;
        }
        // Memory order: letters high byte, letters low byte, product high byte, product low byte.
        return (letters >>> 8) | (letters & 0xFF) << 8 | (product >>> 8) << 16 | (product & 0xFF) << 24;
    }
}
