package dev.jkvm.vmm.board;

import dev.jkvm.devices.AcpiPmBlock;
import dev.jkvm.devices.CmosMachineInfo;
import dev.jkvm.devices.CmosRtc;
import dev.jkvm.devices.DebugExitPort;
import dev.jkvm.devices.ExecutorDeviceScheduler;
import dev.jkvm.devices.FwCfg;
import dev.jkvm.devices.I8042;
import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.IsaDebugcon;
import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PcTestdev;
import dev.jkvm.devices.PciHostBridge;
import dev.jkvm.devices.PciTestdev;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.PostCodePort;
import dev.jkvm.devices.ResetControlRegister;
import dev.jkvm.devices.SystemControl;
import dev.jkvm.devices.SystemControlPortA;
import dev.jkvm.devices.Uart16550;
import dev.jkvm.vmm.board.BoardDevice.Range;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.memory.MemoryMap;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The PC's devices, as jkvm puts them on the buses where {@link Layout} says: COM1-COM4, the CMOS
 * RTC, the i8042, fw_cfg, PCI configuration mechanism #1 with an i440FX host bridge, the reset
 * registers (0x92, 0xcf9), POST codes, QEMU's isa-debug-exit and the ACPI PM block, then the
 * optional ones ({@code -device pc-testdev}, {@code pci-testdev}, {@code isa-debugcon}). The
 * interrupt controllers and the PIT are KVM's. They live as long as the machine; a reset resets
 * them, and a new VM behind them keeps them.
 *
 * <p>One list of {@link BoardDevice}s holds them all, each with the ranges it registered: a reset,
 * a resume from S3 and {@code info devices} walk it.
 */
public final class PcDevices implements AutoCloseable {

    /**
     * The PM block as jkvm's FADT describes it: a 32-bit timer, and ACPI always on (no SMI_CMD),
     * so SCI_EN reads 1 from reset.
     */
    public static final AcpiPmBlock.Config PM_CONFIG = new AcpiPmBlock.Config(true, true, 0xf1, 0xf0);

    /** What the board asks of the machine about ACPI S3: whether the guest sleeps, and to wake it. */
    public interface Sleep {
        /** No sleep: the RTC's interrupt always goes to the interrupt controller. */
        Sleep NEVER = new Sleep() {
            @Override
            public boolean suspended() {
                return false;
            }

            @Override
            public void wake() {
            }
        };

        boolean suspended();

        void wake();
    }

    private final ExecutorDeviceScheduler scheduler = new ExecutorDeviceScheduler();
    private final PortBus bus;
    private final MmioBus mmio;
    private final IntFunction<IrqLine> irqs;
    private final List<Uart16550> coms = new ArrayList<>();
    private final CmosRtc cmos;
    private final FwCfg fwCfg;
    private final I8042 i8042;
    private final PciHostBridge pci;
    private final SystemControlPortA portA;
    private final ResetControlRegister cf9;
    private final PostCodePort post = new PostCodePort();
    private final AcpiPmBlock pm;
    /** The RTC's interrupt line as the CMOS last set it (raised until the guest reads status C). */
    private volatile boolean rtcLineHigh;
    /** The device list, in the order a reset resets them. */
    private final List<BoardDevice> list = new CopyOnWriteArrayList<>();
    /** How many of the list's last rows are KVM's devices (optional devices go before them). */
    private int kvmRows;

    /**
     * @param irqs the machine's interrupt lines by ISA IRQ number (and GSI, for pc-testdev's 16-23)
     * @param debugExit called with the status {@code (v << 1) | 1} when the guest writes v to the debug-exit port
     * @param sleep whether the guest sleeps in S3: the RTC's alarm then wakes it instead of interrupting
     */
    public PcDevices(PortBus bus, MmioBus mmio, IntFunction<IrqLine> irqs, SystemControl control,
                     List<OutputStream> comSinks, MemoryMap memory, Topology topology, IntConsumer debugExit, Sleep sleep) {
        this.bus = bus;
        this.mmio = mmio;
        this.irqs = irqs;
        for (int i = 0; i < comSinks.size(); i++) {
            coms.add(new Uart16550("COM" + (i + 1), comSinks.get(i), irqs.apply(Layout.comIrq(i))));
        }
        cmos = new CmosRtc(new CmosMachineInfo(memory.ramBelow4g(), memory.ramAbove4g(), topology.cpus()), scheduler,
                rtcLine(irqs.apply(Layout.RTC_IRQ), sleep));
        fwCfg = new FwCfg(memory.ramSize(), topology.cpus(), topology.maxCpus());
        i8042 = new I8042(control, irqs.apply(Layout.KEYBOARD_IRQ), irqs.apply(Layout.MOUSE_IRQ));
        pci = new PciHostBridge();
        portA = new SystemControlPortA(control);
        cf9 = new ResetControlRegister(control);
        pm = new AcpiPmBlock(PM_CONFIG, control, irqs.apply(Layout.SCI_IRQ), System::nanoTime, scheduler);

        for (int i = 0; i < coms.size(); i++) {
            Uart16550 com = coms.get(i);
            int base = Layout.comBase(i);
            add(com.name(), Layout.comIrq(i), com::describe, com::reset, false, () -> bus.register(base, Layout.COM_PORTS, com));
        }
        add(cmos.name(), Layout.RTC_IRQ, cmos::describe, cmos::reset, true, () -> bus.register(Layout.CMOS, Layout.CMOS_PORTS, cmos));
        add("i8042", Layout.KEYBOARD_IRQ, i8042.dataPort()::describe, i8042::reset, false, () -> i8042.registerOn(bus));
        add(fwCfg.name(), -1, fwCfg::describe, null, false, () -> bus.register(Layout.FW_CFG, Layout.FW_CFG_PORTS, fwCfg));
        // its functions (pci-testdev) are reset with it
        add("i440fx-pci-host", -1, pci.dataPort()::describe, pci::reset, false, () -> pci.registerOn(bus));
        add(portA.name(), -1, portA::describe, portA::reset, false, () -> bus.register(Layout.PORT_A, 1, portA));
        add(cf9.name(), -1, cf9::describe, cf9::reset, false, () -> bus.register(Layout.RESET_CONTROL, 1, cf9));
        add(post.name(), -1, post::describe, null, false, () -> bus.register(Layout.POST, 1, post));
        DebugExitPort debugExitPort = new DebugExitPort(debugExit::accept);
        add(debugExitPort.name(), -1, debugExitPort::describe, null, false, () -> bus.register(Layout.DEBUG_EXIT, 1, debugExitPort));
        // the PM registers live in the suspend well: the guest's wake enables and the wake status survive S3
        add("acpi-pm", Layout.SCI_IRQ, pm.pm1ControlBlock()::describe, pm::reset, true, () -> pm.registerOn(bus, Layout.PM_PORTS));
        list.addAll(IN_KVM);
        kvmRows = IN_KVM.size();
    }

    /** The rows of the devices KVM emulates: the same for every machine (nothing of theirs is jkvm's). */
    private static final List<BoardDevice> IN_KVM = List.of(
            BoardDevice.inKvm("i8259 PICs", List.of(new Range(Layout.PIC_MASTER, 2), new Range(Layout.PIC_SLAVE, 2)), List.of(), -1),
            BoardDevice.inKvm("i8254 PIT", List.of(new Range(Layout.PIT, Layout.PIT_PORTS)), List.of(), Layout.PIT_IRQ),
            BoardDevice.inKvm("I/O APIC", List.of(), List.of(new Range(Layout.IO_APIC, Layout.IO_APIC_SIZE)), -1),
            BoardDevice.inKvm("local APICs", List.of(), List.of(new Range(Layout.LOCAL_APIC, Layout.LOCAL_APIC_SIZE)), -1));

    /**
     * Whether the guest entered S3 with a wake event already raised: its RTC's interrupt came
     * between its last look and SLP_EN (an alarm at that edge). The chipset then wakes at once
     * (IRQ8 sets RTC_STS); so does jkvm, which sets RTC_STS here. Called after the machine counts
     * as suspended, so an interrupt that rises meanwhile wakes it through the line instead.
     */
    public boolean rtcWakePending() {
        if (rtcLineHigh && pm.rtcWakeEnabled()) {
            pm.rtcAlarm();
            return true;
        }
        return false;
    }

    /**
     * The RTC's interrupt line. While the guest sleeps in S3 its alarm is a wake event, if the guest
     * enabled it as one (PM1 RTC_EN) before it suspended; it then sets RTC_STS and wakes the machine.
     */
    private IrqLine rtcLine(IrqLine irq, Sleep sleep) {
        return level -> {
            rtcLineHigh = level; // before the look at suspended(): rtcWakePending() looks the other way round
            if (level && sleep.suspended()) {
                if (pm.rtcWakeEnabled()) {
                    pm.rtcAlarm();
                    sleep.wake();
                }
                return;
            }
            irq.set(level);
        };
    }

    /**
     * Wires one device with {@code wiring} and lists it with the port and MMIO ranges the wiring
     * registered, read back from the buses: the list cannot claim other ports than the device has.
     */
    private void add(String name, int irq, Supplier<String> state, Runnable reset, boolean keptInS3, Runnable wiring) {
        List<PortBus.Registration> portsBefore = bus.devices();
        List<MmioBus.Registration> mmioBefore = mmio.devices();
        wiring.run();
        List<Range> ports = new ArrayList<>();
        for (PortBus.Registration r : added(portsBefore, bus.devices())) {
            ports.add(new Range(r.base(), r.length()));
        }
        List<Range> windows = new ArrayList<>();
        for (MmioBus.Registration r : added(mmioBefore, mmio.devices())) {
            windows.add(new Range(r.base(), r.length()));
        }
        // before KVM's rows, which end the list
        list.add(list.size() - kvmRows, new BoardDevice(name, ports, windows, irq, state, reset, keptInS3));
    }

    /**
     * What {@code after} holds that {@code before} did not, by identity: a record's equals would
     * bootstrap {@code ObjectMethods} on the first call, which the AOT cache does not resolve ahead
     * of time (~20 ms of a one-shot start-up, measured). Both are sorted by base, so the old
     * registrations come in {@code after} in their order: one walk, unless the wiring removed one.
     */
    private static <T> List<T> added(List<T> before, List<T> after) {
        if (after == before) {
            return List.of();
        }
        List<T> result = new ArrayList<>();
        int old = 0;
        for (T r : after) {
            if (old < before.size() && before.get(old) == r) {
                old++;
            } else {
                result.add(r);
            }
        }
        if (old == before.size()) {
            return result;
        }
        Set<T> kept = Collections.newSetFromMap(new IdentityHashMap<>()); // the wiring took one away
        kept.addAll(before);
        result.clear();
        for (T r : after) {
            if (!kept.contains(r)) {
                result.add(r);
            }
        }
        return result;
    }

    /** {@code -device pc-testdev}: QEMU's ports and its 64 KiB of MMIO, driving the I/O APIC's 24 inputs. */
    public PcTestdev addPcTestdev(LongConsumer pageFlush) {
        PcTestdev testdev = new PcTestdev(irqs, pageFlush);
        add("pc-testdev", -1, testdev::describe, null, false, () -> testdev.registerOn(bus, mmio));
        return testdev;
    }

    /** {@code -device pci-testdev} at 00:02.0, its BARs where SeaBIOS puts them (reset with the host bridge). */
    public PciTestdev addPciTestdev() {
        PciTestdev testdev = new PciTestdev(bus, mmio);
        add(testdev.name(), -1, testdev::describe, null, false, () -> {
            pci.attach(2, 0, testdev);
            testdev.assignAsFirmware(Layout.PCI_TESTDEV_BAR0, Layout.PCI_TESTDEV_BAR1);
        });
        return testdev;
    }

    /** {@code -device isa-debugcon,iobase=N}: what the guest writes goes to {@code sink}. */
    public void addDebugcon(int iobase, int readback, OutputStream sink) {
        IsaDebugcon debugcon = new IsaDebugcon(sink, readback);
        add(debugcon.name(), -1, debugcon::describe, null, false, () -> bus.register(iobase, 1, debugcon));
    }

    /** The device list: every device with where it answers, its IRQ and what a reset does to it. */
    public List<BoardDevice> list() {
        return List.copyOf(list);
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
        for (BoardDevice d : list) {
            if (d.reset() != null) {
                d.reset().run();
            }
        }
    }

    /** What resuming from S3 resets: the devices that lose power while the PC sleeps. */
    public void resetForResume() {
        for (BoardDevice d : list) {
            if (d.reset() != null && !d.keptInS3()) {
                d.reset().run();
            }
        }
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
        int width = 20;
        for (BoardDevice d : list) {
            width = Math.max(width, d.where().length());
        }
        StringBuilder sb = new StringBuilder();
        for (BoardDevice d : list) {
            sb.append(String.format("%-" + width + "s %-8s %s%n", d.where(), d.irq() >= 0 ? "irq " + d.irq() : "",
                    d.state().get()));
        }
        return sb.toString();
    }

    @Override
    public void close() {
        scheduler.close();
    }
}
