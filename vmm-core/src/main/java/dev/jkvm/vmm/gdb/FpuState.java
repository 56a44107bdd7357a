package dev.jkvm.vmm.gdb;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.jkvm.kvm.abi.KvmFpu;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The x87 and SSE state of a vCPU as {@code KVM_GET_FPU} gives it (the FXSAVE image): the eight
 * x87 registers in stack order ST(0)..ST(7), 10 bytes each, the control/status words, the
 * abridged tag byte (one bit per physical register, set = in use), the last instruction and
 * operand pointers, XMM0-15 (16 bytes each, little-endian) and MXCSR.
 *
 * <p>x86 {@code KVM_GET_FPU}/{@code KVM_SET_FPU} never transfer MXCSR (a long-standing KVM
 * omission): through them it reads 0 and writes are dropped. A target that wants the real value
 * reads it from {@code KVM_GET_XSAVE} (bytes 24-27 of the legacy area) and puts it in here.
 *
 * <pre>{@code
 * FpuState f = FpuState.fromKvm(vcpuFd.fpu());
 * vcpuFd.setFpu(f.withMxcsr(0x1f80).toKvm());
 * }</pre>
 *
 * @param st 80 bytes: ST(i) at {@code 10 * i}
 * @param xmm 256 bytes: XMMi at {@code 16 * i}
 */
public record FpuState(byte[] st, int fcw, int fsw, int ftwx, int lastOpcode, long lastIp, long lastDp,
                       byte[] xmm, int mxcsr) {

    static final int ST_BYTES = 10;
    static final int XMM_BYTES = 16;

    public FpuState {
        if (st.length != 8 * ST_BYTES || xmm.length != 16 * XMM_BYTES) {
            throw new IllegalArgumentException("FpuState needs 80 bytes of x87 and 256 bytes of XMM registers");
        }
        st = st.clone();
        xmm = xmm.clone();
    }

    /** The state after reset (FNINIT control word, default MXCSR). */
    public static FpuState initial() {
        return new FpuState(new byte[8 * ST_BYTES], 0x37f, 0, 0, 0, 0, 0, new byte[16 * XMM_BYTES], 0x1f80);
    }

    /** Reads a raw {@code struct kvm_fpu}. */
    public static FpuState fromKvm(byte[] kvmFpu) {
        MemorySegment m = MemorySegment.ofArray(kvmFpu);
        byte[] st = new byte[8 * ST_BYTES];
        for (int i = 0; i < 8; i++) {
            MemorySegment.copy(m, JAVA_BYTE, KvmFpu.FPR + i * KvmFpu.FPR_LENGTH2, st, i * ST_BYTES, ST_BYTES);
        }
        byte[] xmm = new byte[16 * XMM_BYTES];
        MemorySegment.copy(m, JAVA_BYTE, KvmFpu.XMM, xmm, 0, xmm.length);
        return new FpuState(st, Short.toUnsignedInt(m.get(JAVA_SHORT.withByteAlignment(1), KvmFpu.FCW)),
                Short.toUnsignedInt(m.get(JAVA_SHORT.withByteAlignment(1), KvmFpu.FSW)),
                Byte.toUnsignedInt(m.get(JAVA_BYTE, KvmFpu.FTWX)),
                Short.toUnsignedInt(m.get(JAVA_SHORT.withByteAlignment(1), KvmFpu.LAST_OPCODE)),
                m.get(JAVA_LONG.withByteAlignment(1), KvmFpu.LAST_IP), m.get(JAVA_LONG.withByteAlignment(1), KvmFpu.LAST_DP),
                xmm, m.get(JAVA_INT.withByteAlignment(1), KvmFpu.MXCSR));
    }

    /** This state as a raw {@code struct kvm_fpu}, for {@code KVM_SET_FPU}. */
    public byte[] toKvm() {
        byte[] out = new byte[(int) KvmFpu.SIZEOF];
        MemorySegment m = MemorySegment.ofArray(out);
        for (int i = 0; i < 8; i++) {
            MemorySegment.copy(st, i * ST_BYTES, m, JAVA_BYTE, KvmFpu.FPR + i * KvmFpu.FPR_LENGTH2, ST_BYTES);
        }
        m.set(JAVA_SHORT.withByteAlignment(1), KvmFpu.FCW, (short) fcw);
        m.set(JAVA_SHORT.withByteAlignment(1), KvmFpu.FSW, (short) fsw);
        m.set(JAVA_BYTE, KvmFpu.FTWX, (byte) ftwx);
        m.set(JAVA_SHORT.withByteAlignment(1), KvmFpu.LAST_OPCODE, (short) lastOpcode);
        m.set(JAVA_LONG.withByteAlignment(1), KvmFpu.LAST_IP, lastIp);
        m.set(JAVA_LONG.withByteAlignment(1), KvmFpu.LAST_DP, lastDp);
        MemorySegment.copy(xmm, 0, m, JAVA_BYTE, KvmFpu.XMM, xmm.length);
        m.set(JAVA_INT.withByteAlignment(1), KvmFpu.MXCSR, mxcsr);
        return out;
    }

    @Override
    public byte[] st() {
        return st.clone();
    }

    @Override
    public byte[] xmm() {
        return xmm.clone();
    }

    /** The same state with another MXCSR. */
    public FpuState withMxcsr(int value) {
        return new FpuState(st, fcw, fsw, ftwx, lastOpcode, lastIp, lastDp, xmm, value);
    }

    /**
     * The full 16-bit x87 tag word gdb shows as {@code ftag} (2 bits per physical register:
     * 0 valid, 1 zero, 2 special, 3 empty), rebuilt from the abridged byte and the register
     * contents as FXSAVE readers must. Physical register p is ST((p - TOP) mod 8).
     */
    public int fullTagWord() {
        int top = (fsw >> 11) & 7;
        int tag = 0;
        for (int p = 0; p < 8; p++) {
            int kind = (ftwx >> p & 1) == 0 ? 3 : classify((p - top) & 7);
            tag |= kind << (2 * p);
        }
        return tag;
    }

    /** The abridged tag byte for a full tag word: a register is in use unless its tag is 3. */
    static int abridge(int fullTag) {
        int ftwx = 0;
        for (int p = 0; p < 8; p++) {
            if ((fullTag >> (2 * p) & 3) != 3) {
                ftwx |= 1 << p;
            }
        }
        return ftwx;
    }

    private int classify(int stIndex) {
        int at = stIndex * ST_BYTES;
        int exponent = (st[at + 8] & 0xff | (st[at + 9] & 0xff) << 8) & 0x7fff;
        boolean integerBit = (st[at + 7] & 0x80) != 0;
        if (exponent == 0x7fff) {
            return 2;
        }
        if (exponent == 0) {
            for (int i = 0; i < 8; i++) {
                if (st[at + i] != 0) {
                    return 2;
                }
            }
            return 1;
        }
        return integerBit ? 0 : 2;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FpuState f && Arrays.equals(st, f.st) && fcw == f.fcw && fsw == f.fsw && ftwx == f.ftwx
                && lastOpcode == f.lastOpcode && lastIp == f.lastIp && lastDp == f.lastDp
                && Arrays.equals(xmm, f.xmm) && mxcsr == f.mxcsr;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(st) * 31 + Arrays.hashCode(xmm) * 17 + fcw + fsw * 7 + mxcsr;
    }

    @Override
    public String toString() {
        return "FpuState[fcw=" + Integer.toHexString(fcw) + ", fsw=" + Integer.toHexString(fsw)
                + ", ftwx=" + Integer.toHexString(ftwx) + ", mxcsr=" + Integer.toHexString(mxcsr) + "]";
    }
}
