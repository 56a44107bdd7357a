package dev.jkvm.vmm.boot;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny x86 code builder for test kernels: just the instructions they use, hand-encoded, with
 * labels. The same bytes run in 32-bit protected mode and in 64-bit mode (where 32-bit operands
 * zero-extend), so one builder serves Multiboot, PVH and the Linux 64-bit entry.
 */
final class GuestCode {

    private record Fixup(int at, String label, boolean relative) {
    }

    private final long origin;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Map<String, Long> labels = new HashMap<>();
    private final List<Fixup> fixups = new ArrayList<>();

    GuestCode(long origin) {
        this.origin = origin;
    }

    GuestCode bytes(int... bytes) {
        for (int b : bytes) {
            out.write(b);
        }
        return this;
    }

    private GuestCode imm32(int value) {
        return bytes(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
    }

    GuestCode label(String name) {
        labels.put(name, origin + out.size());
        return this;
    }

    /** {@code mov dx, 0x3f8}: COM1's data port for the {@code out} in {@link #puts()}. */
    GuestCode serialPort() {
        return bytes(0x66, 0xba, 0xf8, 0x03);
    }

    /** {@code mov esi, label}. */
    GuestCode movEsi(String label) {
        bytes(0xbe);
        fixups.add(new Fixup(out.size(), label, false));
        return imm32(0);
    }

    /** {@code mov esi, imm32}. */
    GuestCode movEsiImm(int value) {
        return bytes(0xbe).imm32(value);
    }

    /** {@code cmp eax, imm32}. */
    GuestCode cmpEax(int value) {
        return bytes(0x3d).imm32(value);
    }

    /** {@code cmp esi, imm32}. */
    GuestCode cmpEsi(int value) {
        return bytes(0x81, 0xfe).imm32(value);
    }

    /** {@code cmp dword [ebx], imm32}. */
    GuestCode cmpAtEbx(int value) {
        return bytes(0x81, 0x3b).imm32(value);
    }

    /** {@code mov esi, [ebx + disp8]}. */
    GuestCode movEsiFromEbx(int disp) {
        return bytes(0x8b, 0x73, disp);
    }

    /** {@code mov edi, [ebx + disp8]}. */
    GuestCode movEdiFromEbx(int disp) {
        return bytes(0x8b, 0x7b, disp);
    }

    /** {@code mov esi, [edi + disp8]}. */
    GuestCode movEsiFromEdi(int disp) {
        return bytes(0x8b, 0x77, disp);
    }

    /** {@code mov esi, [esi + disp32]} (in 64-bit mode: [rsi + disp32]). */
    GuestCode movEsiFromEsi(int disp) {
        return bytes(0x8b, 0xb6).imm32(disp);
    }

    /** {@code jne label} (rel32). */
    GuestCode jne(String label) {
        bytes(0x0f, 0x85);
        fixups.add(new Fixup(out.size(), label, true));
        return imm32(0);
    }

    /** Writes the NUL-terminated string at ESI to port DX: {@code lodsb; test al,al; jz +3; out dx,al; jmp back}. */
    GuestCode puts() {
        return bytes(0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8);
    }

    /** {@code mov esi, label} then {@link #puts()}. */
    GuestCode print(String label) {
        return movEsi(label).puts();
    }

    /** {@code hlt}, and a jump back to it should anything wake the CPU. */
    GuestCode halt() {
        return bytes(0xf4, 0xeb, 0xfd);
    }

    /** A label naming a NUL-terminated string placed here. */
    GuestCode string(String label, String s) {
        label(label);
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
        return bytes(0);
    }

    long address(String label) {
        Long a = labels.get(label);
        if (a == null) {
            throw new IllegalArgumentException("no label " + label);
        }
        return a;
    }

    byte[] build() {
        byte[] code = out.toByteArray();
        ByteBuffer b = ByteBuffer.wrap(code).order(ByteOrder.LITTLE_ENDIAN);
        for (Fixup f : fixups) {
            long target = address(f.label());
            long value = f.relative() ? target - (origin + f.at() + 4) : target;
            b.putInt(f.at(), (int) value);
        }
        return code;
    }
}
