package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * PCI bus 0 behind configuration mechanism #1 (ports 0xCF8-0xCFF), with QEMU's i440FX host bridge
 * at 00:00.0: what Linux needs to find a PCI bus ({@code pci_check_type1}) and enumerate it.
 *
 * <p>Mechanism #1: a dword written to CONFIG_ADDRESS (0xCF8) selects bus (bits 16-23), device (11-15),
 * function (8-10) and dword register (2-7), bit 31 enabling the data window; CONFIG_DATA (0xCFC-0xCFF)
 * then reads and writes that register, a byte or word access at 0xCFC + n reaching register byte
 * n. CONFIG_ADDRESS reads back what was written (bits 0-1 as 0), byte and word writes to it are
 * ignored (QEMU does the same; Linux's probe writes a byte to 0xCFB and expects nothing to change).
 * With bit 31 clear, or for a bus other than 0, or a device/function with nothing attached, data
 * reads return all ones and writes are dropped: "no device here".
 *
 * <p>Why several port devices: port 0xCF9 inside the address dword is the chipset's
 * {@link ResetControlRegister}, a different device. The {@link PortBus} routes an access by its
 * first port, so the bridge exposes views: {@link #addressPort()} at 0xCF8 (1 port: dword accesses
 * start there), {@link #addressHighPort()} at 0xCFA (2 ports) and {@link #dataPort()} at 0xCFC
 * (4 ports), leaving 0xCF9 free. {@link #registerOn} does exactly that.
 *
 * <p>The host bridge: vendor 0x8086, device 0x1237 (82441FX), revision 0x02, class 0x060000, header
 * type 0, subsystem 1af4:1100 as QEMU sets it, status 0x0280 and command 0x0006 as the 82441FX
 * data sheet gives them, SMRAM (0x72) 0x02; see {@link PciConfigSpace} for which bits are writable.
 *
 * <p>Threads: the address latch is a volatile; functions are attached copy-on-write; config accesses
 * take only the function's own lock.
 *
 * <pre>{@code
 * PciHostBridge pci = new PciHostBridge();
 * pci.registerOn(bus);                     // 0xcf8, 0xcfa-0xcfb, 0xcfc-0xcff
 * bus.register(0xcf9, 1, new ResetControlRegister(control));
 * }</pre>
 */
public final class PciHostBridge implements SavesState<PciHostBridge.State> {

    public static final int CONFIG_ADDRESS_PORT = 0xcf8;
    public static final int CONFIG_DATA_PORT = 0xcfc;
    /** Enable bit of CONFIG_ADDRESS. */
    public static final int ENABLE = 0x8000_0000;
    public static final int DEVICES = 32;
    public static final int FUNCTIONS = 8;

    private volatile int address;
    private volatile PciFunction[] functions = new PciFunction[DEVICES * FUNCTIONS];
    private final PciConfigSpace hostBridge;
    private final PortIoDevice addressPort = new AddressView(0);
    private final PortIoDevice addressHighPort = new AddressView(2);
    private final PortIoDevice dataPort = new DataView();

    /** Bus 0 with the i440FX host bridge at 00:00.0. */
    public PciHostBridge() {
        hostBridge = new PciConfigSpace("i440fx", 0x8086, 0x1237, 0x02, 0x060000, 0x00);
        hostBridge.preset(PciConfigSpace.COMMAND, 2, 0x0006);
        hostBridge.preset(PciConfigSpace.STATUS, 2, 0x0280);
        hostBridge.preset(PciConfigSpace.SUBSYSTEM_VENDOR_ID, 2, 0x1af4);
        hostBridge.preset(PciConfigSpace.SUBSYSTEM_ID, 2, 0x1100);
        hostBridge.preset(0x72, 1, 0x02); // SMRAM: C_BASE_SEG = 010 (0xA0000)
        attach(0, 0, hostBridge);
    }

    /** The i440FX's configuration space (00:00.0). */
    public PciConfigSpace hostBridge() {
        return hostBridge;
    }

    /**
     * Puts a function at 00:{@code device}.{@code function}.
     *
     * @throws IllegalArgumentException if the slot is out of range or taken
     */
    public synchronized void attach(int device, int function, PciFunction f) {
        Objects.requireNonNull(f, "f");
        if (device < 0 || device >= DEVICES || function < 0 || function >= FUNCTIONS) {
            throw new IllegalArgumentException("no PCI slot 00:" + device + "." + function);
        }
        int slot = device * FUNCTIONS + function;
        PciFunction[] copy = functions.clone();
        if (copy[slot] != null) {
            throw new IllegalArgumentException(String.format(
                    "PCI slot 00:%02x.%d already holds %s", device, function, copy[slot].name()));
        }
        copy[slot] = f;
        functions = copy;
    }

    /** The function at 00:{@code device}.{@code function}, or {@code null}. */
    public PciFunction function(int device, int function) {
        return functions[device * FUNCTIONS + function];
    }

    /** CONFIG_ADDRESS bytes 0-3 from port 0xCF8: register with length 1. */
    public PortIoDevice addressPort() {
        return addressPort;
    }

    /** CONFIG_ADDRESS bytes 2-3 at port 0xCFA: register with length 2. */
    public PortIoDevice addressHighPort() {
        return addressHighPort;
    }

    /** CONFIG_DATA at port 0xCFC: register with length 4. */
    public PortIoDevice dataPort() {
        return dataPort;
    }

    /** Registers the three views at 0xCF8 (1), 0xCFA (2) and 0xCFC (4), leaving 0xCF9 free. */
    public void registerOn(PortBus bus) {
        bus.register(CONFIG_ADDRESS_PORT, 1, addressPort);
        bus.register(CONFIG_ADDRESS_PORT + 2, 2, addressHighPort);
        bus.register(CONFIG_DATA_PORT, 4, dataPort);
    }

    /** Machine reset: CONFIG_ADDRESS to 0 and every attached function reset. */
    public void reset() {
        address = 0;
        for (PciFunction f : functions) {
            if (f != null) {
                f.reset();
            }
        }
    }

    /**
     * The guest-visible state: CONFIG_ADDRESS and the configuration space of every function that
     * is a {@link PciConfigSpace}, by slot (device * 8 + function).
     */
    public record State(int address, List<FunctionState> functions) {
    }

    /** One function's configuration bytes. */
    public record FunctionState(int slot, byte[] config) {
    }

    /** The guest-visible state now. */
    @Override
    public State saveState() {
        List<FunctionState> saved = new ArrayList<>();
        PciFunction[] fs = functions;
        for (int i = 0; i < fs.length; i++) {
            if (fs[i] instanceof PciConfigSpace c) {
                saved.add(new FunctionState(i, c.configBytes()));
            }
        }
        return new State(address, List.copyOf(saved));
    }

    /**
     * Puts CONFIG_ADDRESS and the functions' configuration back.
     *
     * @throws IllegalArgumentException when a saved slot holds no such function here
     */
    @Override
    public void restoreState(State s) {
        PciFunction[] fs = functions;
        for (FunctionState f : s.functions()) {
            if (f.slot() < 0 || f.slot() >= fs.length || !(fs[f.slot()] instanceof PciConfigSpace)) {
                throw new IllegalArgumentException("no PCI function at slot " + f.slot() + " to restore");
            }
        }
        for (FunctionState f : s.functions()) {
            ((PciConfigSpace) fs[f.slot()]).restoreConfig(f.config());
        }
        address = s.address();
    }

    /** The latched CONFIG_ADDRESS. */
    public int configAddress() {
        return address;
    }

    /** {@code pci: address=80000000 (00:00.0 reg 0x00 on) functions=00:00.0 i440fx}. */
    public String describe() {
        int a = address;
        List<String> present = new ArrayList<>();
        PciFunction[] fs = functions;
        for (int i = 0; i < fs.length; i++) {
            if (fs[i] != null) {
                present.add(String.format("00:%02x.%d %s", i / FUNCTIONS, i % FUNCTIONS, fs[i].name()));
            }
        }
        return String.format("pci: address=%08x (%02x:%02x.%d reg 0x%02x %s) functions=%s",
                a, (a >>> 16) & 0xff, (a >>> 11) & 0x1f, (a >>> 8) & 7, a & 0xfc,
                (a & ENABLE) != 0 ? "on" : "off", String.join(", ", present));
    }

    @Override
    public String toString() {
        return describe();
    }

    /** The function CONFIG_ADDRESS selects now, or {@code null} for "no device". */
    private PciFunction selected(int a) {
        if ((a & ENABLE) == 0 || ((a >>> 16) & 0xff) != 0) {
            return null;
        }
        return functions[(a >>> 8) & 0xff]; // device and function bits: 5 + 3
    }

    private final class AddressView implements PortIoDevice {
        private final int firstByte;

        AddressView(int firstByte) {
            this.firstByte = firstByte;
        }

        @Override
        public int read(int offset, int size) {
            int a = address;
            int value = 0;
            for (int i = 0; i < size; i++) {
                int b = firstByte + offset + i;
                value |= (b < 4 ? (a >>> (8 * b)) & 0xff : 0xff) << (8 * i);
            }
            return value;
        }

        @Override
        public void write(int offset, int size, int value) {
            if (firstByte + offset == 0 && size == 4) {
                address = value & ~3;
            }
        }

        @Override
        public String name() {
            return "pci-config-address";
        }

        @Override
        public String describe() {
            return PciHostBridge.this.describe();
        }
    }

    private final class DataView implements PortIoDevice {
        @Override
        public int read(int offset, int size) {
            int a = address;
            PciFunction f = selected(a);
            if (f == null) {
                return -1;
            }
            if (offset + size <= 4) {
                return f.readConfig((a & 0xfc) + offset, size);
            }
            int value = 0; // an access running past 0xCFF: the bytes beyond float high
            for (int i = 0; i < size; i++) {
                int b = offset + i < 4 ? f.readConfig((a & 0xfc) + offset + i, 1) : 0xff;
                value |= b << (8 * i);
            }
            return value;
        }

        @Override
        public void write(int offset, int size, int value) {
            int a = address;
            PciFunction f = selected(a);
            if (f == null || offset >= 4) {
                return;
            }
            f.writeConfig((a & 0xfc) + offset, Math.min(size, 4 - offset), value);
        }

        @Override
        public String name() {
            return "pci-config-data";
        }

        @Override
        public String describe() {
            return PciHostBridge.this.describe();
        }
    }
}
