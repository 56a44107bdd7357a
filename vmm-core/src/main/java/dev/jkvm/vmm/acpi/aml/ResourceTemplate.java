package dev.jkvm.vmm.acpi.aml;

import java.io.ByteArrayOutputStream;

/**
 * ASL's {@code ResourceTemplate() {...}}: resource descriptors (ACPI 6, section 6.4) in a Buffer,
 * closed by an End Tag whose checksum makes the whole template sum to zero.
 *
 * <pre>{@code
 * Aml crs = new ResourceTemplate().io(0x3f8, 0x3f8, 0x01, 0x08).irqNoFlags(4).toAml();
 * }</pre>
 */
public final class ResourceTemplate {

    static final int IRQ_NO_FLAGS = 0x22; // small item 0x04, length 2
    static final int IO = 0x47; // small item 0x08, length 7
    static final int END_TAG = 0x79; // small item 0x0F, length 1
    static final int MEMORY32_FIXED = 0x86;
    static final int DWORD_ADDRESS_SPACE = 0x87;
    static final int WORD_ADDRESS_SPACE = 0x88;

    static final int SPACE_MEMORY = 0;
    static final int SPACE_IO = 1;
    static final int SPACE_BUS_NUMBER = 2;

    /** General flags of an address space descriptor of a bridge window: producer, positive decode, MinFixed, MaxFixed. */
    static final int PRODUCER_FIXED_WINDOW = 0x0C;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** {@code IO(Decode16, min, max, alignment, length)}. */
    public ResourceTemplate io(int min, int max, int alignment, int length) {
        checkRange("IO", min, max, 0xFFFF);
        if (alignment < 0 || alignment > 0xFF || length < 0 || length > 0xFF) {
            throw new IllegalArgumentException("IO descriptor alignment " + alignment + " length " + length);
        }
        out.write(IO);
        out.write(1); // decodes 16 address bits
        u16(min);
        u16(max);
        out.write(alignment);
        out.write(length);
        return this;
    }

    /** {@code IRQNoFlags() {irqs}}: edge-triggered, active high, exclusive ISA IRQs. */
    public ResourceTemplate irqNoFlags(int... irqs) {
        int mask = 0;
        for (int irq : irqs) {
            if (irq < 0 || irq > 15) {
                throw new IllegalArgumentException("IRQNoFlags takes IRQs 0-15, not " + irq);
            }
            mask |= 1 << irq;
        }
        out.write(IRQ_NO_FLAGS);
        u16(mask);
        return this;
    }

    /** {@code Memory32Fixed(ReadWrite|ReadOnly, base, length)}. */
    public ResourceTemplate memory32Fixed(boolean writable, long base, long length) {
        checkRange("Memory32Fixed", base, base + Math.max(length, 1) - 1, 0xFFFF_FFFFL);
        out.write(MEMORY32_FIXED);
        u16(9);
        out.write(writable ? 1 : 0);
        u32(base);
        u32(length);
        return this;
    }

    /** {@code WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, count)}. */
    public ResourceTemplate wordBusNumber(int min, int max) {
        checkRange("WordBusNumber", min, max, 0xFFFF);
        return wordAddressSpace(SPACE_BUS_NUMBER, 0, min, max);
    }

    /** {@code WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, length)}. */
    public ResourceTemplate wordIo(int min, int max) {
        checkRange("WordIO", min, max, 0xFFFF);
        return wordAddressSpace(SPACE_IO, 3 /* _RNG: ISA and non-ISA ranges */, min, max);
    }

    private ResourceTemplate wordAddressSpace(int type, int typeFlags, int min, int max) {
        out.write(WORD_ADDRESS_SPACE);
        u16(13);
        out.write(type);
        out.write(PRODUCER_FIXED_WINDOW);
        out.write(typeFlags);
        u16(0); // granularity
        u16(min);
        u16(max);
        u16(0); // translation offset
        u16(max - min + 1);
        return this;
    }

    /**
     * {@code DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable|NonCacheable,
     * ReadWrite|ReadOnly, 0, min, max, 0, length)}.
     */
    public ResourceTemplate dwordMemory(boolean cacheable, boolean writable, long min, long max) {
        checkRange("DWordMemory", min, max, 0xFFFF_FFFFL);
        out.write(DWORD_ADDRESS_SPACE);
        u16(23);
        out.write(SPACE_MEMORY);
        out.write(PRODUCER_FIXED_WINDOW);
        out.write((cacheable ? 1 << 1 : 0) | (writable ? 1 : 0));
        u32(0); // granularity
        u32(min);
        u32(max);
        u32(0); // translation offset
        u32(max - min + 1);
        return this;
    }

    /** The descriptors and the End Tag, whose checksum byte makes them all sum to zero. */
    public byte[] toBytes() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(out.toByteArray());
        all.write(END_TAG);
        byte[] b = all.toByteArray();
        int sum = 0;
        for (byte x : b) {
            sum += x;
        }
        all.write(-sum & 0xFF);
        return all.toByteArray();
    }

    /** The template as an AML Buffer, ready for {@code Name(_CRS, ...)}. */
    public Aml toAml() {
        return Aml.buffer(toBytes());
    }

    private static void checkRange(String what, long min, long max, long limit) {
        if (min < 0 || max < min || max > limit) {
            throw new IllegalArgumentException(what + " range 0x" + Long.toHexString(min) + "-0x"
                    + Long.toHexString(max) + " is invalid");
        }
    }

    private void u16(int v) {
        out.write(v);
        out.write(v >>> 8);
    }

    private void u32(long v) {
        u16((int) v);
        u16((int) (v >>> 16));
    }
}
