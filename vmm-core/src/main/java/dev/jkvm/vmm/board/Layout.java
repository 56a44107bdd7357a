package dev.jkvm.vmm.board;

import dev.jkvm.devices.AcpiPmBlock;
import dev.jkvm.devices.CmosRtc;
import dev.jkvm.devices.DebugExitPort;
import dev.jkvm.devices.FwCfg;
import dev.jkvm.devices.I8042;
import dev.jkvm.devices.IsaDebugcon;
import dev.jkvm.devices.PcTestdev;
import dev.jkvm.devices.PciHostBridge;
import dev.jkvm.devices.PostCodePort;
import dev.jkvm.devices.ResetControlRegister;
import dev.jkvm.devices.SystemControlPortA;

/**
 * Where everything of jkvm's PC is: every guest-physical address, I/O port and ISA IRQ the
 * machine chooses, in one file (as Firecracker's {@code arch/x86_64/layout.rs}), read by the
 * memory map, e820, the firmware tables, the boot loaders, the device wiring and the VM session,
 * so they cannot disagree. A port a device model fixes itself (the i8042's, PCI mechanism #1's,
 * pc-testdev's) is named here from the model's constant; the devices' register offsets stay there.
 *
 * <pre>
 * guest-physical                                           I/O ports
 * 0x00000-0x004ff  real-mode IVT, BIOS data area            0x20, 0xa0   i8259 PICs (KVM)
 * 0x00500          boot GDT (loaders' data to 0x2ffff)      0x40-0x43    i8254 PIT (KVM)
 * 0x01000-0x06fff  boot stack, top 0x7000                   0x60, 0x64   i8042
 * 0x07000          zero page / start_info / Multiboot info  0x70-0x71    CMOS RTC
 * 0x08000          Multiboot mmap / PVH memmap              0x80         POST codes
 * 0x09000-0x0efff  boot page tables                         0x92         system control port A
 * 0x20000-0x2ffff  command lines                            0xb2         APM (SMI_CMD, unused)
 * 0x80000          lowest base of the firmware tables       0xe0-0xeb    pc-testdev
 *   ...-0x9fbff    ACPI tables, MP configuration table      0xe9         isa-debugcon default
 * 0x9fc00          EBDA: MP floating pointer, RSDP +16      0xf4         isa-debug-exit
 * 0xa0000-0xbffff  VGA window (nothing there)               0x2e8-0x3ff  COM4 COM2 COM3 COM1
 * 0xc0000-0xdffff  pc.rom: zeros, read-only (option ROMs)   0x510-0x511  fw_cfg
 * 0xe0000-0xfffff  the ROM's last 128 KiB (0xf0000: BIOS),  0x600-0x60b  ACPI PM block
 *                  RAM below a smaller one (not in e820)
 * 0x100000         extended RAM, the kernel
 * low RAM end      PCI hole (3 GiB with 3.5 GiB RAM or more) 0xcf8-0xcff PCI config (not 0xcf9)
 * 0xfebff000       pci-testdev BAR0                         0xcf9        reset control
 * 0xfec00000       I/O APIC (KVM)                           0x2000-0x2017 pc-testdev IRQs
 * 0xfee00000       local APICs (KVM)                        0xafe0-0xafe3 GPE0
 * 0xfeffc000       KVM identity map page, TSS at 0xfeffd000 0xc000-0xc0ff pci-testdev BAR1
 * 0xff000000       ROM window (top 16 MiB), pc-testdev iomem
 * 4 GiB            RAM above 4 GiB
 * </pre>
 */
public final class Layout {

    private Layout() {
    }

    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final long GIB = 1024 * MIB;

    // ---- low memory: the BIOS data area and the loaders' boot data ----

    /** BIOS data area word: the EBDA's real-mode segment (the ACPI RSDP search and Linux's MP scan start there). */
    public static final long BDA_EBDA_SEGMENT = 0x40e;
    /** BIOS data area word: KiB of base memory below the EBDA and the firmware tables. */
    public static final long BDA_BASE_MEMORY_KIB = 0x413;
    /** The first byte the loaders may write (below: the real-mode IVT and the BIOS data area). */
    public static final long BOOT_DATA_START = 0x500;
    /** The GDT: four descriptors (null, null, code 0x10, data 0x18), as QEMU's and Firecracker's loaders place it. */
    public static final long BOOT_GDT = 0x500;
    /** The boot stack's lowest byte; it grows down from {@link #BOOT_STACK_TOP}. */
    public static final long BOOT_STACK_BOTTOM = 0x1000;
    /** The initial stack pointer. */
    public static final long BOOT_STACK_TOP = 0x7000;
    /** One page: the Linux zero page, the PVH start_info (+ module list) or the Multiboot info (+ module list). */
    public static final long BOOT_INFO = 0x7000;
    /** One page: the Multiboot mmap or the PVH memmap table. */
    public static final long BOOT_MEMORY_MAP = 0x8000;
    /** Six pages, long mode only: PML4, PDPT and four page directories identity-mapping 4 GiB with 2 MiB pages. */
    public static final long BOOT_PAGE_TABLES = 0x9000;
    /** The kernel command line, then module command lines and the boot loader name. */
    public static final long BOOT_COMMAND_LINES = 0x20000;
    /** The first byte past the loaders' low-memory data. */
    public static final long BOOT_DATA_END = 0x30000;

    // ---- the top of conventional memory: firmware tables and the EBDA ----

    /** The firmware tables may take conventional memory down to here (128 KiB, some 2000 vCPUs' worth). */
    public static final long FIRMWARE_TABLES_LOWEST = 0x80000;
    /** The Extended BIOS Data Area, as SeaBIOS puts it: the last KiB below 640 KiB. */
    public static final long EBDA_START = 0x9fc00;
    /** Linux's MP scan finds the floating pointer in the EBDA's first bytes. */
    public static final long MP_FLOATING_POINTER = EBDA_START;
    /** The ACPI RSDP, after the 16-byte MP floating pointer: ACPI's scan of the EBDA's first KiB finds it. */
    public static final long RSDP = EBDA_START + 16;
    /** Where conventional memory ends and the legacy VGA/ROM hole begins. */
    public static final long LOW_RAM_END = 0xa0000;
    /** The VGA window, decoded by the PCI host bridge (nothing is there). */
    public static final long VGA_START = LOW_RAM_END;
    public static final long VGA_END = 0xc0000;
    /**
     * QEMU's {@code pc.rom}, 128 KiB of memory the guest can only read, where a PC's option ROMs
     * sit (jkvm loads none: zeros). Memory, not MMIO: an OS's ROM probe and its 16-byte scans of
     * the area would otherwise exit to jkvm on every read. Not in e820, as under SeaBIOS.
     */
    public static final long OPTION_ROM_START = VGA_END;
    public static final long OPTION_ROM_END = 0xe0000;
    /** The BIOS segment, reserved in e820 whether or not a ROM shows there; the second RSDP goes here. */
    public static final long BIOS_SEGMENT = 0xf0000;
    /** How much of the ROM a PC also shows below 1 MiB ({@code isa-bios}, from 0xe0000 for a ROM this big). */
    public static final long ISA_BIOS_MAX = 128 * KIB;
    /**
     * Where the ISA BIOS window starts. A ROM smaller than {@link #ISA_BIOS_MAX} leaves its lower
     * part to RAM, as QEMU's {@code pc} shows its low RAM there (writable, not in e820).
     */
    public static final long ISA_BIOS_START = 0x100000 - ISA_BIOS_MAX;

    // ---- extended memory, the 32-bit hole, and above 4 GiB ----

    /** Where extended memory starts. */
    public static final long HIGH_RAM_START = MIB;
    /** Where a bzImage's protected-mode code is loaded. */
    public static final long KERNEL_LOAD = HIGH_RAM_START;
    /** From this much RAM on, low memory stops at {@link #LOW_MEMORY_SPLIT} (QEMU's rule for {@code pc}). */
    public static final long SPLIT_THRESHOLD = 0xe000_0000L;
    /** Where the PCI hole starts when the RAM is split; else it starts where the RAM ends. */
    public static final long LOW_MEMORY_SPLIT = 0xc000_0000L;
    /** Where RAM above the hole resumes. */
    public static final long FOUR_GIB = 4 * GIB;
    /** The most the firmware ROM may take: the top 16 MiB of the 32-bit space, ending at 4 GiB. */
    public static final long MAX_ROM_SIZE = 16 * MIB;
    /** The 32-bit PCI hole ends below the I/O APIC. */
    public static final long PCI_HOLE_END = 0xfec0_0000L;
    /** pci-testdev's BARs where SeaBIOS assigns them under QEMU's {@code pc} with {@code -nodefaults}. */
    public static final long PCI_TESTDEV_BAR0 = 0xfebf_f000L;
    public static final int PCI_TESTDEV_BAR1 = 0xc000;
    /** The I/O APIC's register window (KVM's in-kernel one). */
    public static final long IO_APIC = 0xfec0_0000L;
    public static final long IO_APIC_SIZE = 0x1000;
    /** Where every local APIC's registers appear (KVM's). */
    public static final long LOCAL_APIC = 0xfee0_0000L;
    public static final long LOCAL_APIC_SIZE = MIB;
    /** QEMU's choice for the page KVM needs for real mode's identity map on Intel hosts, below the ROM window... */
    public static final long IDENTITY_MAP = 0xfeff_c000L;
    /** ...and the three pages of its TSS right after. */
    public static final long TSS = 0xfeff_d000L;
    /** The identity map page and the TSS, reserved in e820. */
    public static final long KVM_PRIVATE_SIZE = 4 * 4096;
    /** pc-testdev's 64 KiB of RAM-like MMIO (fixed by the device, as in QEMU). */
    public static final long PC_TESTDEV_IOMEM = PcTestdev.IOMEM_BASE;

    // ---- I/O ports ----

    /** The PICs and the PIT are KVM's: shown in {@code info devices}, never on jkvm's bus. */
    public static final int PIC_MASTER = 0x20;
    public static final int PIC_SLAVE = 0xa0;
    public static final int PIT = 0x40;
    public static final int PIT_PORTS = 4;
    public static final int I8042_DATA = I8042.DATA_PORT;
    public static final int I8042_COMMAND = I8042.STATUS_COMMAND_PORT;
    public static final int CMOS = CmosRtc.DEFAULT_BASE;
    public static final int CMOS_PORTS = CmosRtc.PORT_COUNT;
    public static final int POST = PostCodePort.PORT;
    public static final int PORT_A = SystemControlPortA.PORT;
    public static final int RESET_CONTROL = ResetControlRegister.PORT;
    public static final int PCI_CONFIG_ADDRESS = PciHostBridge.CONFIG_ADDRESS_PORT;
    public static final int PCI_CONFIG_DATA = PciHostBridge.CONFIG_DATA_PORT;
    /** fw_cfg's selector and data ports, where QEMU's {@code pc} has them. */
    public static final int FW_CFG = FwCfg.DEFAULT_BASE;
    public static final int FW_CFG_PORTS = FwCfg.PORT_COUNT;
    /** QEMU's isa-debug-exit iobase (jkvm's is always there). */
    public static final int DEBUG_EXIT = DebugExitPort.DEFAULT_IOBASE;
    /** isa-debugcon's iobase when {@code -debugcon} or {@code -device isa-debugcon} gives none. */
    public static final int DEBUGCON_DEFAULT = IsaDebugcon.DEFAULT_IOBASE;
    /** The ACPI PM block as QEMU's PIIX4 has it: PM1a event 0x600 (4), control 0x604 (2), timer 0x608 (4), GPE0 0xafe0 (4), SMI_CMD 0xb2. */
    public static final int PM1A_EVENT = 0x600;
    public static final int PM1A_EVENT_LENGTH = 4;
    public static final int PM1A_CONTROL = 0x604;
    public static final int PM1A_CONTROL_LENGTH = 2;
    public static final int PM_TIMER = 0x608;
    public static final int PM_TIMER_LENGTH = 4;
    public static final int GPE0 = 0xafe0;
    public static final int GPE0_LENGTH = 4;
    public static final int SMI_COMMAND = 0xb2;
    public static final AcpiPmBlock.Ports PM_PORTS = new AcpiPmBlock.Ports(PM1A_EVENT, PM1A_CONTROL, PM_TIMER, GPE0,
            SMI_COMMAND);

    // ---- serial ports ----

    /** How many ports a 16550 decodes. */
    public static final int COM_PORTS = 8;
    private static final int[] COM_BASES = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
    private static final int[] COM_IRQS = {4, 3, 4, 3};
    /** COM1 to COM4, as on a PC. */
    public static final int COM_COUNT = COM_BASES.length;

    /** The first port of COM{@code n + 1}. */
    public static int comBase(int n) {
        return COM_BASES[n];
    }

    /** The ISA IRQ of COM{@code n + 1}. */
    public static int comIrq(int n) {
        return COM_IRQS[n];
    }

    // ---- ISA IRQs ----

    /** The PIT's IRQ 0, which a PC wires to the I/O APIC's pin 2. */
    public static final int PIT_IRQ = 0;
    public static final int PIT_GSI = 2;
    public static final int KEYBOARD_IRQ = 1;
    public static final int MOUSE_IRQ = 12;
    public static final int RTC_IRQ = 8;
    /** The SCI's ISA IRQ on PIIX4 (level-triggered, active high). */
    public static final int SCI_IRQ = 9;
    /** The I/O APIC's pins: ISA IRQs 0-15, then 16-23 (pc-testdev drives them all). */
    public static final int IO_APIC_PINS = 24;
}
