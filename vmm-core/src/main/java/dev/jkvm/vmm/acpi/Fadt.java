package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.firmware.ByteWriter;
import dev.jkvm.vmm.firmware.PlatformDescription;
import dev.jkvm.vmm.firmware.PmPorts;

/**
 * The Fixed ACPI Description Table ("FACP"), revision 6 (ACPI 6.3, 276 bytes): the fixed hardware
 * (PM ports, SCI, reset register, RTC century) and the FACS and DSDT addresses, each both in the
 * 32-bit field and the 64-bit X_ field (equal, so ACPICA has no mismatch to warn about).
 *
 * <p>SMI_CMD is 0: there is no SMM and no legacy mode, the machine is always in ACPI mode (ACPI
 * 6, section 4.8.2.1.1), so ACPI_ENABLE/ACPI_DISABLE are 0 and PM1a_CNT.SCI_EN must always read 1.
 *
 * <p>IAPC_BOOT_ARCH says what jkvm really has: LEGACY_DEVICES (the RTC and the UARTs are ISA
 * devices), 8042 when the keyboard controller is there, VGA Not Present (there is no VGA), MSI Not
 * Supported unless the platform says otherwise, and a CMOS RTC.
 *
 * <p>Flags: WBINVD (works), PROC_C1 (HLT), SLP_BUTTON (no sleep button), RESET_REG_SUP,
 * TMR_VAL_EXT for a 32-bit PM timer. FIX_RTC is clear: the RTC wake status is in PM1 (RTC_STS and
 * RTC_EN, as on the PIIX4), which is how an S3 guest arms its wake-up. PWR_BUTTON is clear: the power
 * button is the fixed-feature one (PM1 PWRBTN_STS/EN), as on QEMU.
 */
final class Fadt {

    static final int REVISION = 6;
    static final int MINOR_REVISION = 3;
    static final int LENGTH = 276;

    static final int F_WBINVD = 1;
    static final int F_PROC_C1 = 1 << 2;
    static final int F_PWR_BUTTON = 1 << 4;
    static final int F_SLP_BUTTON = 1 << 5;
    static final int F_FIX_RTC = 1 << 6;
    static final int F_TMR_VAL_EXT = 1 << 8;
    static final int F_RESET_REG_SUP = 1 << 10;

    static final int BOOT_LEGACY_DEVICES = 1;
    static final int BOOT_8042 = 1 << 1;
    static final int BOOT_VGA_NOT_PRESENT = 1 << 2;
    static final int BOOT_MSI_NOT_SUPPORTED = 1 << 3;

    /** Latencies above 100 (C2) / 1000 (C3) microseconds mean the state is not supported. */
    static final int C2_NOT_SUPPORTED = 0xFFF;
    static final int C3_NOT_SUPPORTED = 0xFFF;

    private Fadt() {
    }

    static byte[] build(PlatformDescription p, long facs, long dsdt) {
        if (facs > 0xFFFF_FFFFL || dsdt > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("the FACS and the DSDT must lie below 4 GiB");
        }
        PmPorts pm = p.pm();
        ByteWriter w = SdtHeader.begin("FACP", REVISION);
        w.u32(facs); // FIRMWARE_CTRL
        w.u32(dsdt); // DSDT
        w.u8(0); // reserved (ACPI 1.0 INT_MODEL)
        w.u8(0); // Preferred_PM_Profile: unspecified
        w.u16(p.sciIrq()); // SCI_INT
        w.u32(0); // SMI_CMD: none, always in ACPI mode
        w.u8(0); // ACPI_ENABLE
        w.u8(0); // ACPI_DISABLE
        w.u8(0); // S4BIOS_REQ
        w.u8(0); // PSTATE_CNT
        w.u32(pm.pm1aEvent()); // PM1a_EVT_BLK
        w.u32(0); // PM1b_EVT_BLK
        w.u32(pm.pm1aControl()); // PM1a_CNT_BLK
        w.u32(0); // PM1b_CNT_BLK
        w.u32(0); // PM2_CNT_BLK
        w.u32(pm.pmTimer()); // PM_TMR_BLK
        w.u32(pm.gpe0()); // GPE0_BLK
        w.u32(0); // GPE1_BLK
        w.u8(pm.pm1aEventLength()); // PM1_EVT_LEN
        w.u8(pm.pm1aControlLength()); // PM1_CNT_LEN
        w.u8(0); // PM2_CNT_LEN
        w.u8(pm.pmTimerLength()); // PM_TMR_LEN
        w.u8(pm.gpe0Length()); // GPE0_BLK_LEN
        w.u8(0); // GPE1_BLK_LEN
        w.u8(0); // GPE1_BASE
        w.u8(0); // CST_CNT: no _CST notification
        w.u16(C2_NOT_SUPPORTED); // P_LVL2_LAT
        w.u16(C3_NOT_SUPPORTED); // P_LVL3_LAT
        w.u16(0); // FLUSH_SIZE
        w.u16(0); // FLUSH_STRIDE
        w.u8(0); // DUTY_OFFSET
        w.u8(0); // DUTY_WIDTH
        w.u8(0); // DAY_ALRM: no day-of-month alarm
        w.u8(0); // MON_ALRM
        w.u8(p.rtcCenturyIndex()); // CENTURY
        w.u16(bootArchitecture(p)); // IAPC_BOOT_ARCH
        w.u8(0); // reserved
        w.u32(flags(p)); // Flags
        GenericAddress.systemIo(p.reset().port(), 8, GenericAddress.BYTE).writeTo(w); // RESET_REG
        w.u8(p.reset().value()); // RESET_VALUE
        w.u16(0); // ARM_BOOT_ARCH
        w.u8(MINOR_REVISION); // FADT Minor Version
        w.u64(0); // X_FIRMWARE_CTRL: at most one of it and FIRMWARE_CTRL may be set; the FACS is below 4 GiB
        w.u64(dsdt); // X_DSDT
        GenericAddress.systemIo(pm.pm1aEvent(), pm.pm1aEventLength() * 8, GenericAddress.WORD).writeTo(w);
        GenericAddress.NONE.writeTo(w); // X_PM1b_EVT_BLK
        GenericAddress.systemIo(pm.pm1aControl(), pm.pm1aControlLength() * 8, GenericAddress.WORD).writeTo(w);
        GenericAddress.NONE.writeTo(w); // X_PM1b_CNT_BLK
        GenericAddress.NONE.writeTo(w); // X_PM2_CNT_BLK
        GenericAddress.systemIo(pm.pmTimer(), pm.pmTimerLength() * 8, GenericAddress.DWORD).writeTo(w);
        GenericAddress.systemIo(pm.gpe0(), pm.gpe0Length() * 8, GenericAddress.BYTE).writeTo(w); // X_GPE0_BLK
        GenericAddress.NONE.writeTo(w); // X_GPE1_BLK
        GenericAddress.NONE.writeTo(w); // SLEEP_CONTROL_REG: hardware-reduced ACPI only
        GenericAddress.NONE.writeTo(w); // SLEEP_STATUS_REG
        w.u64(0); // Hypervisor Vendor Identity: none claimed
        return SdtHeader.finish(w);
    }

    static int bootArchitecture(PlatformDescription p) {
        return BOOT_LEGACY_DEVICES | (p.i8042() ? BOOT_8042 : 0) | BOOT_VGA_NOT_PRESENT
                | (p.msi() ? 0 : BOOT_MSI_NOT_SUPPORTED);
    }

    static int flags(PlatformDescription p) {
        return F_WBINVD | F_PROC_C1 | F_SLP_BUTTON | F_RESET_REG_SUP
                | (p.pm().timer32Bit() ? F_TMR_VAL_EXT : 0);
    }
}
