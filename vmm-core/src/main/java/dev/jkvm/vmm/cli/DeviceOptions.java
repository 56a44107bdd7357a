package dev.jkvm.vmm.cli;

import dev.jkvm.devices.IsaDebugcon;
import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.Peripherals;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.chardev.ChardevRegistry;
import dev.jkvm.vmm.chardev.ChardevSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code -device}, {@code -debugcon} and {@code -global}: the devices a QEMU command line may add to
 * jkvm's pc, and the device properties jkvm knows. Each is refused, naming what jkvm has, when jkvm
 * does not have it: a harness then sees a clear line instead of a machine that silently lacks it.
 */
final class DeviceOptions {

    /** {@code -device help}, in QEMU's layout: what {@code -device} really accepts. */
    static final String DEVICE_HELP = "Misc devices:\n"
            + "name \"isa-debug-exit\", bus ISA\n"
            + "name \"isa-debugcon\", bus ISA\n"
            + "name \"pc-testdev\", bus ISA\n"
            + "name \"pci-testdev\", bus PCI, desc \"PCI Test Device\"\n";

    /** The devices of {@link #DEVICE_HELP}. */
    static final Set<String> DEVICES = Set.of("isa-debug-exit", "isa-debugcon", "pc-testdev", "pci-testdev");

    /**
     * {@code -global DRIVER.PROP=VALUE} jkvm accepts, with the values it takes: properties of devices
     * the pc has (the PIT and PICs KVM emulates included) whose QEMU default is what jkvm does, or
     * that jkvm implements ({@code PIIX4_PM.disable_s3}).
     */
    private static final Map<String, Set<String>> GLOBALS = globals();

    private static Map<String, Set<String>> globals() {
        Map<String, Set<String>> g = new LinkedHashMap<>();
        // KVM's in-kernel PIT re-injects lost ticks ("delay") unless told to discard them; the
        // guest cannot tell the two apart without missing ticks, and jkvm's PIT is KVM's either way.
        g.put("kvm-pit.lost_tick_policy", Set.of("discard", "delay"));
        g.put("mc146818rtc.lost_tick_policy", Set.of("discard", "delay", "slew"));
        g.put("PIIX4_PM.disable_s3", Set.of("0", "1", "on", "off", "true", "false"));
        g.put("PIIX4_PM.disable_s4", Set.of("1", "on", "true")); // jkvm never offers S4
        g.put("isa-debugcon.iobase", null);
        g.put("isa-debugcon.readback", null);
        return g;
    }

    private DeviceOptions() {
    }

    /** Applies one {@code -device}. */
    static void device(String v, MachineConfig.Builder b, ChardevRegistry chardevs, Map<String, Integer> debugconDefaults) {
        String[] parts = v.split(",");
        String driver = parts[0].startsWith("driver=") ? parts[0].substring(7) : parts[0];
        Map<String, String> props = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq <= 0) {
                throw new JkvmException("-device " + v + ": expected PROPERTY=VALUE, not '" + parts[i] + "'");
            }
            props.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
        }
        props.remove("id");
        Peripherals p = b.peripherals();
        switch (driver) {
            case "isa-debug-exit" -> {
                // read by hand: a harness passes this on every start, and a regular expression or a
                // format string costs ~10 ms interpreted to compile
                for (Map.Entry<String, String> e : props.entrySet()) {
                    int n = isNumber(e.getValue()) ? number(v, e.getValue()) : -1;
                    boolean fits = switch (e.getKey()) {
                        case "iobase" -> n == Layout.DEBUG_EXIT;
                        case "iosize" -> n == 1 || n == 2 || n == 4;
                        default -> false;
                    };
                    if (!fits) {
                        throw new JkvmException("-device " + v + ": jkvm's isa-debug-exit is at iobase=0x"
                                + Integer.toHexString(Layout.DEBUG_EXIT) + " ('" + e.getKey() + "=" + e.getValue() + "')");
                    }
                }
            }
            case "pc-testdev" -> {
                noProperties(v, props);
                if (p.pcTestdev()) {
                    throw new JkvmException("-device " + v + ": a machine has one pc-testdev (its ports are fixed)");
                }
                b.peripherals(p.withPcTestdev());
            }
            case "pci-testdev" -> {
                String addr = props.remove("addr");
                if (addr != null && !addr.matches("(0x)?0?2(\\.0)?")) {
                    throw new JkvmException("-device " + v + ": jkvm puts pci-testdev at 00:02.0, as QEMU does with -nodefaults");
                }
                noProperties(v, props);
                if (p.pciTestdev()) {
                    throw new JkvmException("-device " + v + ": jkvm has one pci-testdev, at 00:02.0");
                }
                b.peripherals(p.withPciTestdev());
            }
            case "isa-debugcon" -> {
                int iobase = props.containsKey("iobase") ? number("-device " + v, props.remove("iobase"))
                        : debugconDefaults.getOrDefault("iobase", Layout.DEBUGCON_DEFAULT);
                int readback = props.containsKey("readback") ? number("-device " + v, props.remove("readback"))
                        : debugconDefaults.getOrDefault("readback", IsaDebugcon.DEFAULT_READBACK);
                String chardev = props.remove("chardev");
                noProperties(v, props);
                if (chardev == null) {
                    throw new JkvmException("-device " + v + ": isa-debugcon needs chardev=ID (a -chardev), or use -debugcon DEV");
                }
                ChardevSpec spec = chardevs.claim(chardev, "-device " + v);
                try {
                    b.peripherals(p.withDebugcon(new Peripherals.Debugcon(iobase, readback & 0xff, spec)));
                } catch (IllegalArgumentException e) {
                    throw new JkvmException("-device " + v + ": " + e.getMessage());
                }
            }
            default -> throw new JkvmException("-device " + v + ": '" + driver + "' is not a valid device model name"
                    + " (jkvm has " + String.join(", ", DEVICES.stream().sorted().toList()) + "; -device help lists them)");
        }
    }

    /** {@code -debugcon DEV}: an isa-debugcon at 0xe9 on DEV ({@code -serial} syntax or {@code chardev:ID}). */
    static void debugcon(String v, MachineConfig.Builder b, ChardevRegistry chardevs, Map<String, Integer> debugconDefaults) {
        ChardevSpec spec = v.startsWith("chardev:") ? chardevs.claim(v.substring(8), "-debugcon " + v)
                : ChardevSpec.legacy(v, "debugcon" + b.peripherals().debugcons().size(), "-debugcon");
        b.peripherals(b.peripherals().withDebugcon(new Peripherals.Debugcon(
                debugconDefaults.getOrDefault("iobase", Layout.DEBUGCON_DEFAULT),
                debugconDefaults.getOrDefault("readback", IsaDebugcon.DEFAULT_READBACK) & 0xff, spec)));
    }

    /**
     * {@code -global DRIVER.PROP=VALUE}: S3 for PIIX4_PM, isa-debugcon defaults, the rest checked
     * and accepted; returns whether S3 is offered when the option says, else null.
     */
    static Boolean global(String v, MachineConfig.Builder b, Map<String, Integer> debugconDefaults) {
        int eq = v.indexOf('=');
        int dot = v.indexOf('.');
        if (eq < 0 || dot < 0 || dot > eq) {
            throw new JkvmException("-global " + v + ": expected DRIVER.PROPERTY=VALUE");
        }
        String key = v.substring(0, eq);
        String value = v.substring(eq + 1);
        String driver = key.substring(0, dot);
        if (!GLOBALS.containsKey(key)) {
            boolean known = GLOBALS.keySet().stream().anyMatch(k -> k.startsWith(driver + "."));
            throw new JkvmException("-global " + v + ": " + (known ? "Property '" + key + "' not found"
                    : "jkvm has no device '" + driver + "'") + " (jkvm takes " + String.join(", ", GLOBALS.keySet()) + ")");
        }
        Set<String> values = GLOBALS.get(key);
        if (values != null && !values.contains(value)) {
            throw new JkvmException("-global " + v + ": jkvm takes " + key + "=" + String.join("|", values.stream().sorted().toList()));
        }
        return switch (key) {
            case "PIIX4_PM.disable_s3" -> !(value.equals("1") || value.equals("on") || value.equals("true"));
            case "isa-debugcon.iobase", "isa-debugcon.readback" -> {
                debugconDefaults.put(key.substring(dot + 1), number("-global " + v, value));
                yield null;
            }
            default -> null;
        };
    }

    private static void noProperties(String v, Map<String, String> props) {
        if (!props.isEmpty()) {
            throw new JkvmException("-device " + v + ": property '" + props.keySet().iterator().next() + "' not found");
        }
    }

    /** Whether {@code s} is a decimal or 0x-hexadecimal number {@link #number} reads. */
    private static boolean isNumber(String s) {
        try {
            number("", s);
            return true;
        } catch (JkvmException e) {
            return false;
        }
    }

    private static int number(String where, String s) {
        try {
            long n = s.startsWith("0x") || s.startsWith("0X") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
            if (n >= 0 && n <= 0xffff_ffffL) {
                return (int) n;
            }
        } catch (NumberFormatException e) {
            // the line below
        }
        throw new JkvmException(where + ": '" + s + "' is not a number");
    }
}
