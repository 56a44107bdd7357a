package dev.jkvm.vmm.board;

import dev.jkvm.devices.AcpiPmBlock;
import dev.jkvm.devices.CmosMachineInfo;
import dev.jkvm.devices.CmosRtc;
import dev.jkvm.devices.DebugExitPort;
import dev.jkvm.devices.ExecutorDeviceScheduler;
import dev.jkvm.devices.FwCfg;
import dev.jkvm.devices.I8042;
import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.PciHostBridge;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.PortIoDevice;
import dev.jkvm.devices.PostCodePort;
import dev.jkvm.devices.ResetControlRegister;
import dev.jkvm.devices.SystemControl;
import dev.jkvm.devices.SystemControlPortA;
import dev.jkvm.devices.Uart16550;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.memory.MemoryMap;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * The PC's legacy devices, as jkvm puts them on the port bus where {@link Layout} says: COM1-COM4,
 * the CMOS RTC, the i8042, fw_cfg, PCI configuration mechanism #1 with an i440FX host bridge, the
 * reset registers (0x92, 0xcf9), POST codes, QEMU's isa-debug-exit and the ACPI PM block. The
 * interrupt controllers and the PIT are KVM's. They live as long as the machine; a reset resets
 * them, and a new VM behind them keeps them.
 */
public final class PcDevices implements AutoCloseable {

    /**
     * The PM block as jkvm's FADT describes it: a 32-bit timer, and ACPI always on (no SMI_CMD),
     * so SCI_EN reads 1 from reset.
     */
    public static final AcpiPmBlock.Config PM_CONFIG = new AcpiPmBlock.Config(true, true, 0xf1, 0xf0);

    /** One line of {@code info devices}. */
    public record Listed(String ports, int irq, PortIoDevice device) {
    }

    private final ExecutorDeviceScheduler scheduler = new ExecutorDeviceScheduler();
    private final List<Uart16550> coms = new ArrayList<>();
    private final CmosRtc cmos;
    private final FwCfg fwCfg;
    private final I8042 i8042;
    private final PciHostBridge pci;
    private final SystemControlPortA portA;
    private final ResetControlRegister cf9;
    private final PostCodePort post = new PostCodePort();
    private final AcpiPmBlock pm;
    private final List<Listed> listed = new ArrayList<>();

    /**
     * @param irqs the machine's interrupt lines by ISA IRQ number
     * @param debugExit called with the status {@code (v << 1) | 1} when the guest writes v to 0xf4
     */
    public PcDevices(PortBus bus, IntFunction<IrqLine> irqs, SystemControl control, List<OutputStream> comSinks,
                     MemoryMap memory, Topology topology, IntConsumer debugExit) {
        for (int i = 0; i < comSinks.size(); i++) {
            coms.add(new Uart16550("COM" + (i + 1), comSinks.get(i), irqs.apply(Layout.comIrq(i))));
        }
        cmos = new CmosRtc(new CmosMachineInfo(memory.ramBelow4g(), memory.ramAbove4g(), topology.cpus()), scheduler,
                irqs.apply(Layout.RTC_IRQ));
        fwCfg = new FwCfg(memory.ramSize(), topology.cpus(), topology.maxCpus());
        i8042 = new I8042(control, irqs.apply(Layout.KEYBOARD_IRQ), irqs.apply(Layout.MOUSE_IRQ));
        pci = new PciHostBridge();
        portA = new SystemControlPortA(control);
        cf9 = new ResetControlRegister(control);
        pm = new AcpiPmBlock(PM_CONFIG, control, irqs.apply(Layout.SCI_IRQ), System::nanoTime, scheduler);

        for (int i = 0; i < coms.size(); i++) {
            add(bus, Layout.comBase(i), Layout.COM_PORTS, Layout.comIrq(i), coms.get(i));
        }
        add(bus, Layout.CMOS, Layout.CMOS_PORTS, Layout.RTC_IRQ, cmos);
        i8042.registerOn(bus);
        listed.add(new Listed(String.format("0x%x,0x%x", Layout.I8042_DATA, Layout.I8042_COMMAND), Layout.KEYBOARD_IRQ, i8042.dataPort()));
        add(bus, Layout.FW_CFG, Layout.FW_CFG_PORTS, -1, fwCfg);
        pci.registerOn(bus);
        listed.add(new Listed(String.format("0x%x-0x%x", Layout.PCI_CONFIG_ADDRESS, Layout.PCI_CONFIG_DATA + 3), -1, pci.dataPort()));
        add(bus, Layout.PORT_A, 1, -1, portA);
        add(bus, Layout.RESET_CONTROL, 1, -1, cf9);
        add(bus, Layout.POST, 1, -1, post);
        add(bus, Layout.DEBUG_EXIT, 1, -1, new DebugExitPort(debugExit::accept));
        pm.registerOn(bus, Layout.PM_PORTS);
        listed.add(new Listed(String.format("0x%x-0x%x,0x%x", Layout.PM1A_EVENT, Layout.PM_TIMER + Layout.PM_TIMER_LENGTH - 1, Layout.GPE0), Layout.SCI_IRQ, pm.pm1ControlBlock()));
    }

    private void add(PortBus bus, int base, int length, int irq, PortIoDevice device) {
        bus.register(base, length, device);
        listed.add(new Listed(String.format("0x%x-0x%x", base, base + length - 1), irq, device));
    }

    /** COM1. */
    public Uart16550 com1() {
        return coms.getFirst();
    }

    /** COM{@code n + 1}. */
    public Uart16550 com(int n) {
        return coms.get(n);
    }

    /** PCI bus 0, for optional functions ({@code -device pci-testdev}). */
    public PciHostBridge pci() {
        return pci;
    }

    /** fw_cfg, for the boot code to add files. */
    public FwCfg fwCfg() {
        return fwCfg;
    }

    /** The CMOS RTC. */
    public CmosRtc cmos() {
        return cmos;
    }

    /** The ACPI PM block (power button, wake). */
    public AcpiPmBlock pm() {
        return pm;
    }

    /** A system reset, as the reset control register's: the machine restarts (or ends, with -no-reboot). */
    public void requestReset() {
        cf9.write(0, 1, 0x06);
    }

    /** Resets every device as a PC reset does (CMOS RAM and time are kept). */
    public void reset() {
        coms.forEach(Uart16550::reset);
        cmos.reset();
        i8042.reset();
        pci.reset();
        portA.reset();
        cf9.reset();
        pm.reset();
    }

    /**
     * What resuming from S3 resets: the devices that lose power while the PC sleeps. The PM block
     * (its registers live in the suspend well, so the guest's wake enables and the wake status
     * survive) and the CMOS (battery-backed) are kept.
     */
    public void resetForResume() {
        coms.forEach(Uart16550::reset);
        i8042.reset();
        pci.reset();
        portA.reset();
        cf9.reset();
    }

    /** The guest-visible state of every device (the debug-exit and POST ports have none). */
    public record State(List<Uart16550.State> coms, CmosRtc.State cmos, I8042.State i8042, FwCfg.State fwCfg,
                        PciHostBridge.State pci, SystemControlPortA.State portA, ResetControlRegister.State cf9,
                        AcpiPmBlock.State pm) {
    }

    /** Every device's state now (the vCPUs must be paused). */
    public State saveState() {
        return new State(coms.stream().map(Uart16550::saveState).toList(), cmos.saveState(), i8042.saveState(),
                fwCfg.saveState(), pci.saveState(), portA.saveState(), cf9.saveState(), pm.saveState());
    }

    /**
     * Puts every device back to {@code s}.
     *
     * @throws IllegalArgumentException when {@code s} has another number of serial ports
     */
    public void restoreState(State s) {
        if (s.coms().size() != coms.size()) {
            throw new IllegalArgumentException(s.coms().size() + " serial ports in the snapshot, " + coms.size() + " here");
        }
        for (int i = 0; i < coms.size(); i++) {
            coms.get(i).restoreState(s.coms().get(i));
        }
        cmos.restoreState(s.cmos());
        i8042.restoreState(s.i8042());
        fwCfg.restoreState(s.fwCfg());
        pci.restoreState(s.pci());
        portA.restoreState(s.portA());
        cf9.restoreState(s.cf9());
        pm.restoreState(s.pm());
    }

    /** {@code info devices}: one line per device with its ports, IRQ and state. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (Listed l : listed) {
            sb.append(String.format("%-20s %-8s %s%n", l.ports(), l.irq() >= 0 ? "irq " + l.irq() : "", l.device().describe()));
        }
        sb.append(String.format("%-20s %-8s %s%n", String.format("0x%x,0x%x", Layout.PIC_MASTER, Layout.PIC_SLAVE), "",
                "i8259 PICs (in KVM)"));
        sb.append(String.format("%-20s %-8s %s%n", String.format("0x%x-0x%x", Layout.PIT, Layout.PIT + Layout.PIT_PORTS - 1),
                "irq " + Layout.PIT_IRQ, "i8254 PIT (in KVM)"));
        sb.append(String.format("%-20s %-8s %s%n", String.format("mmio 0x%x", Layout.IO_APIC), "", "I/O APIC (in KVM)"));
        sb.append(String.format("%-20s %-8s %s%n", String.format("mmio 0x%x", Layout.LOCAL_APIC), "", "local APICs (in KVM)"));
        return sb.toString();
    }

    @Override
    public void close() {
        scheduler.close();
    }
}
