package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.firmware.ByteWriter;

/**
 * An ACPI Generic Address Structure (12 bytes): where a register lives and how to access it.
 *
 * <pre>{@code
 * GenericAddress.systemIo(0xcf9, 8, GenericAddress.BYTE);   // the reset register
 * }</pre>
 *
 * @param spaceId 0 system memory, 1 system I/O
 * @param bitWidth the register's width in bits
 * @param bitOffset where the register starts within the address, in bits
 * @param accessSize 0 undefined, 1 byte, 2 word, 3 dword, 4 qword
 * @param address the register's address
 */
public record GenericAddress(int spaceId, int bitWidth, int bitOffset, int accessSize, long address) {

    public static final int SYSTEM_MEMORY = 0;
    public static final int SYSTEM_IO = 1;

    public static final int BYTE = 1;
    public static final int WORD = 2;
    public static final int DWORD = 3;

    /** The all-zero structure of a register that does not exist. */
    public static final GenericAddress NONE = new GenericAddress(0, 0, 0, 0, 0);

    public GenericAddress {
        if (spaceId < 0 || spaceId > 0xFF || bitWidth < 0 || bitWidth > 0xFF || bitOffset < 0 || bitOffset > 0xFF
                || accessSize < 0 || accessSize > 4) {
            throw new IllegalArgumentException("invalid generic address " + spaceId + "/" + bitWidth + "/" + bitOffset
                    + "/" + accessSize);
        }
    }

    /** A register of {@code bits} bits at I/O port {@code port}. */
    public static GenericAddress systemIo(int port, int bits, int accessSize) {
        return new GenericAddress(SYSTEM_IO, bits, 0, accessSize, port);
    }

    void writeTo(ByteWriter w) {
        w.u8(spaceId).u8(bitWidth).u8(bitOffset).u8(accessSize).u64(address);
    }
}
