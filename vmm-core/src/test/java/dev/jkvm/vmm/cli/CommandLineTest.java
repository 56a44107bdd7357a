package dev.jkvm.vmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.chardev.ChardevSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandLineTest {

    private static MachineConfig config(String... args) {
        return assertInstanceOf(Invocation.Run.class, CommandLine.parse(args)).config();
    }

    @Test
    void defaultsAreQemus() {
        MachineConfig c = config();
        assertEquals(128L << 20, c.memoryBytes());
        assertEquals(BiosRom.DEFAULT, c.firmware());
        assertEquals(null, c.timeout());
    }

    @Test
    void memorySizesFollowQemuRules() {
        assertEquals(512L << 20, Sizes.parseMemory("512"));
        assertEquals(512L << 20, Sizes.parseMemory("512M"));
        assertEquals(512L << 20, Sizes.parseMemory("size=512m"));
        assertEquals(2L << 30, Sizes.parseMemory("2G"));
        assertEquals(3L << 29, Sizes.parseMemory("1.5G"));
        assertEquals(4096L << 10, Sizes.parseMemory("4096K"));
        assertEquals(1L << 40, Sizes.parseMemory("1T"));
        // Rounded up to a page.
        assertEquals((2L << 20) + 4096, Sizes.parseMemory(((2L << 20) + 1) + "B"));
    }

    @Test
    void badMemorySizesAreOneLine() {
        assertEquals("-m 0: RAM size must be at least 2 MiB",
                assertThrows(JkvmException.class, () -> Sizes.parseMemory("0")).getMessage());
        assertTrue(assertThrows(JkvmException.class, () -> Sizes.parseMemory("lots")).getMessage()
                .startsWith("-m lots: invalid RAM size"));
        assertTrue(assertThrows(JkvmException.class, () -> Sizes.parseMemory("2X")).getMessage()
                .startsWith("-m 2X: invalid RAM size"));
        assertTrue(assertThrows(JkvmException.class, () -> Sizes.parseMemory("99999999999999999999"))
                .getMessage().startsWith("-m 99999999999999999999: invalid"));
        assertTrue(assertThrows(JkvmException.class, () -> Sizes.parseMemory("2T")).getMessage()
                .contains("larger than"));
        for (String bad : List.of("1.", ".5G", "1..5G", "1.5.2G", "-1G", "1e3M")) {
            assertTrue(assertThrows(JkvmException.class, () -> Sizes.parseMemory(bad)).getMessage()
                    .startsWith("-m " + bad + ": invalid"), bad);
        }
    }

    /** The harness forms of QEMU's isa-debug-exit and versioned machine names, read without regular expressions. */
    @Test
    void harnessDeviceAndMachineSpellingsAreReadByHand() {
        for (String ok : List.of("isa-debug-exit,iobase=0xf4,iosize=0x04", "isa-debug-exit,iobase=0xf4,iosize=0x4",
                "isa-debug-exit,iobase=244,iosize=4", "isa-debug-exit,iosize=2", "isa-debug-exit,iosize=1",
                "isa-debug-exit", "isa-debug-exit,id=exit0,iobase=0xF4")) {
            config("-device", ok);
        }
        for (String bad : List.of("isa-debug-exit,iobase=0x501", "isa-debug-exit,iosize=8", "isa-debug-exit,iosize=3",
                "isa-debug-exit,iosize=x", "isa-debug-exit,iobase=", "isa-debug-exit,speed=4")) {
            assertTrue(assertThrows(JkvmException.class, () -> config("-device", bad)).getMessage()
                    .startsWith("-device " + bad + ": jkvm's isa-debug-exit is at iobase=0xf4 ('"), bad);
        }
        for (String ok : List.of("pc", "pc-i440fx-7.2", "type=pc-i440fx-2.12", "pc,accel=kvm")) {
            config("-machine", ok);
        }
        for (String bad : List.of("pc-i440fx-", "pc-i440fx-7.x", "type=pc-i440fx-")) {
            assertThrows(JkvmException.class, () -> config("-machine", bad), bad);
        }
    }

    /** libvirt's and avocado's -no-user-config: jkvm's own configuration (the CPU models folder) is not read. */
    @Test
    void noUserConfigLeavesTheDefaultFolderOut() {
        assertTrue(config().userConfig());
        assertFalse(config("-no-user-config").userConfig());
        assertFalse(config("-no-user-config", "-cpu", "Westmere").userConfig());
        assertTrue(CommandLine.usage().contains("-no-user-config"));
    }

    @Test
    void optionsReachTheConfig() {
        MachineConfig c = config("-m", "64M", "-bios", "/tmp/x.rom", "-nographic", "-enable-kvm", "--timeout", "2.5");
        assertEquals(64L << 20, c.memoryBytes());
        assertEquals(BiosRom.file(Path.of("/tmp/x.rom")), c.firmware());
        assertEquals(Duration.ofMillis(2500), c.timeout());
    }

    @Test
    void unknownOptionIsNamedAsQemuDoes() {
        assertEquals("-no-such-option: invalid option (jkvm -h lists the options)",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-no-such-option")).getMessage());
        assertEquals("-bios: requires an argument",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-bios")).getMessage());
        assertEquals("stray: invalid option (jkvm takes no positional arguments: a disk image needs a disk, and jkvm has none;"
                + " boot a kernel with -kernel FILE or a ROM with -bios FILE)",
                assertThrows(JkvmException.class, () -> CommandLine.parse("stray")).getMessage());
        assertEquals("-timeout 0: expected a positive number of seconds",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-timeout", "0")).getMessage());
    }

    @Test
    void helpAndVersion() {
        assertInstanceOf(Invocation.Help.class, CommandLine.parse("-h"));
        assertInstanceOf(Invocation.Help.class, CommandLine.parse("--help"));
        assertInstanceOf(Invocation.Version.class, CommandLine.parse("--version"));
        String usage = CommandLine.usage();
        for (String flag : new String[] {"-bios FILE", "-m ", "-nographic", "-enable-kvm", "-timeout"}) {
            assertTrue(usage.contains(flag), flag);
        }
    }

    @Test
    void statsGoToStderrOrToTheFileNamed() {
        Invocation.Run plain = assertInstanceOf(Invocation.Run.class, CommandLine.parse("-stats"));
        assertEquals(MachineConfig.StatsFormat.TABLE, plain.config().stats());
        assertTrue(plain.statsFile().isEmpty());
        Invocation.Run json = assertInstanceOf(Invocation.Run.class, CommandLine.parse("-stats", "json,file=/tmp/s.json"));
        assertEquals(MachineConfig.StatsFormat.JSON, json.config().stats());
        assertEquals(java.util.Optional.of(Path.of("/tmp/s.json")), json.statsFile());
        Invocation.Run table = assertInstanceOf(Invocation.Run.class, CommandLine.parse("-stats", "file=/dev/stdout"));
        assertEquals(MachineConfig.StatsFormat.TABLE, table.config().stats());
        assertEquals(java.util.Optional.of(Path.of("/dev/stdout")), table.statsFile());
        assertEquals(MachineConfig.StatsFormat.JSON, config("-stats", "json").stats());
        assertEquals("-stats json,file=: expected json, table or file=PATH (e.g. json,file=s.json)",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-stats", "json,file=")).getMessage());
    }

    /** -h names what -bios NAME and -kernel NAME find, read from the class path (it cannot fall behind). */
    @Test
    void helpNamesEveryBundledImage() {
        java.util.List<String> roms = dev.jkvm.vmm.boot.BundledImages.names(".rom");
        java.util.List<String> kernels = dev.jkvm.vmm.boot.BundledImages.names(".elf");
        assertTrue(roms.containsAll(java.util.List.of("hello", "debug-exit", "triple-fault", "port-driver")), roms.toString());
        assertTrue(kernels.containsAll(java.util.List.of("cpuinfo", "meminfo", "exits")), kernels.toString());
        String usage = CommandLine.usage();
        assertTrue(usage.contains("bundled: " + String.join(", ", roms) + ")"), usage);
        assertTrue(usage.contains("by name (" + String.join(", ", kernels) + ")"), usage);
    }
    /** What QEMU users put on every line: the accelerator, the machine, no display, no defaults, a name. */
    @Test
    void qemusEverydayFlagsAreUnderstood() {
        MachineConfig c = config("-accel", "kvm", "-M", "pc", "-display", "none", "-nodefaults", "-name", "guest=t1,debug-threads=on");
        assertTrue(c.irqchip());
        assertEquals(java.util.Optional.of("t1"), c.name());
        assertEquals(dev.jkvm.vmm.SerialBackend.none(), c.serial(), "-nodefaults: COM1 is connected to nothing");
        assertEquals(dev.jkvm.vmm.SerialBackend.stdio(), config("-nodefaults", "-serial", "stdio").serial());
        assertEquals(dev.jkvm.vmm.SerialBackend.stdio(), config().serial());
        assertEquals(java.util.Optional.empty(), config().name());
        assertEquals(false, config("-accel", "kvm,kernel-irqchip=off").irqchip());
        assertEquals(false, config("-machine", "pc-i440fx-7.2,kernel-irqchip=off").irqchip());
        assertEquals(false, config("-machine", "kernel-irqchip=off", "-M", "pc").irqchip(), "a later -M pc keeps it");
        assertEquals("guest", config("-name", "guest").name().orElseThrow());
    }

    @Test
    void machineAndAcceleratorListsAsQemuPrintsThem() {
        String machines = assertInstanceOf(Invocation.Listing.class, CommandLine.parse("-M", "help")).text();
        assertTrue(machines.startsWith("Supported machines are:\npc "), machines);
        assertEquals(machines, assertInstanceOf(Invocation.Listing.class, CommandLine.parse("-machine", "?")).text());
        assertEquals("Accelerators supported in jkvm:\nkvm\n",
                assertInstanceOf(Invocation.Listing.class, CommandLine.parse("-accel", "help")).text());
    }

    @Test
    void whatJkvmDoesNotHaveIsRefusedInOneLine() {
        assertEquals("-accel tcg: jkvm runs guests on KVM only, not tcg",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-accel", "tcg")).getMessage());
        assertEquals("-machine q35: jkvm has the pc machine only (i440FX-style: PIIX4 power management, ISA devices), not q35",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-machine", "q35")).getMessage());
        assertEquals("-display gtk: jkvm has no display (serial ports and the monitor only): use none",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-display", "gtk")).getMessage());
        assertEquals("-name a,process=b: unsupported property 'process=b' (NAME[,debug-threads=on|off])",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-name", "a,process=b")).getMessage());
        assertEquals("-serial stdio: cannot use stdio by multiple character devices",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-serial", "stdio", "-serial", "stdio")).getMessage());
        assertEquals("-accel kvm,foo=1: unsupported property 'foo=1' (kvm[,kernel-irqchip=on|off])",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-accel", "kvm,foo=1")).getMessage());
    }

    @Test
    void theHarnessRunLineIsAccepted() {
        MachineConfig c = config("--no-reboot", "-nodefaults", "-global", "kvm-pit.lost_tick_policy=discard", "-device", "pc-testdev",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4", "-display", "none", "-serial", "stdio", "-device", "pci-testdev",
                "-machine", "accel=kvm", "-kernel", "cpuinfo", "-smp", "2", "-m", "64", "-vnc", "none");
        assertTrue(c.noReboot());
        assertTrue(c.peripherals().pcTestdev());
        assertTrue(c.peripherals().pciTestdev());
        assertEquals(dev.jkvm.vmm.SerialBackend.stdio(), c.serial());
    }

    @Test
    void chardevsAreDefinedBeforeTheirUsersWhereverTheyStand() {
        MachineConfig c = config("-device", "isa-debugcon,iobase=0x402,chardev=log", "-serial", "chardev:s", "-mon", "chardev=m",
                "-chardev", "file,id=log,path=/tmp/x.log", "-chardev", "socket,id=s,port=4555,server=on,wait=off",
                "-chardev", "socket,id=m,path=/tmp/m.sock,server=on,wait=off");
        assertEquals(1, c.peripherals().debugcons().size());
        assertEquals(0x402, c.peripherals().debugcons().getFirst().iobase());
        assertEquals(0xe9, c.peripherals().debugcons().getFirst().readback());
        assertInstanceOf(dev.jkvm.vmm.SerialBackend.Chardev.class, c.serial());
        assertInstanceOf(MachineConfig.MonitorSpec.Chardev.class, c.monitor());
        assertEquals(0xe9, config("-debugcon", "file:/tmp/d").peripherals().debugcons().getFirst().iobase());
        assertEquals(0x403, config("-global", "isa-debugcon.iobase=0x403", "-debugcon", "null").peripherals().debugcons()
                .getFirst().iobase());
    }

    @Test
    void monitorSocketsAreChardevsThatWaitForTheirClientUnlessTold() {
        for (String v : List.of("unix:/tmp/m.sock,server", "unix:/tmp/m.sock,server=on,wait=on", "tcp::4444,server")) {
            MachineConfig.MonitorSpec.Chardev c = assertInstanceOf(MachineConfig.MonitorSpec.Chardev.class, config("-monitor", v).monitor());
            assertTrue(assertInstanceOf(ChardevSpec.Socket.class, c.spec()).waitForClient(), v);
        }
        for (String v : List.of("unix:/tmp/m.sock,server,nowait", "unix:/tmp/m.sock,server=on,wait=off")) {
            MachineConfig.MonitorSpec.Chardev c = assertInstanceOf(MachineConfig.MonitorSpec.Chardev.class, config("-monitor", v).monitor());
            assertFalse(assertInstanceOf(ChardevSpec.Socket.class, c.spec()).waitForClient(), v);
        }
        assertEquals("-monitor unix:/tmp/m.sock,bogus: unsupported option 'bogus' (server, wait=on|off)",
                assertThrows(JkvmException.class, () -> config("-monitor", "unix:/tmp/m.sock,bogus")).getMessage());
    }

    @Test
    void probesAnswerAsHarnessesParseThem() {
        assertTrue(CommandLine.usage().lines().findFirst().orElseThrow().matches("jkvm emulator version \\d+\\.\\d+\\.\\d+ \\(.*\\)"));
        assertTrue(CommandLine.usage().contains("QEMU"));
        String devices = assertInstanceOf(Invocation.Listing.class, CommandLine.parse("-device", "?")).text();
        assertTrue(devices.contains("name \"pc-testdev\", bus ISA\n"), devices);
        assertTrue(devices.contains("name \"pci-testdev\", bus PCI, desc \"PCI Test Device\"\n"), devices);
        assertTrue(devices.contains("name \"isa-debug-exit\", bus ISA\n"), devices);
        assertEquals(devices, assertInstanceOf(Invocation.Listing.class, CommandLine.parse("-device", "help")).text());
    }

    @Test
    void unknownDevicesGlobalsAndDisplaysAreOneLine() {
        assertTrue(assertThrows(JkvmException.class, () -> CommandLine.parse("-device", "e1000")).getMessage()
                .startsWith("-device e1000: 'e1000' is not a valid device model name"));
        assertTrue(assertThrows(JkvmException.class, () -> CommandLine.parse("-global", "kvm-pit.foo=1")).getMessage()
                .startsWith("-global kvm-pit.foo=1: Property 'kvm-pit.foo' not found"));
        assertTrue(assertThrows(JkvmException.class, () -> CommandLine.parse("-global", "ide-hd.ver=1")).getMessage()
                .startsWith("-global ide-hd.ver=1: jkvm has no device 'ide-hd'"));
        assertTrue(assertThrows(JkvmException.class, () -> CommandLine.parse("-global", "kvm-pit.lost_tick_policy=slew"))
                .getMessage().startsWith("-global kvm-pit.lost_tick_policy=slew: jkvm takes kvm-pit.lost_tick_policy=delay|discard"));
        assertEquals("-vnc :0: jkvm has no display: only -vnc none",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-vnc", ":0")).getMessage());
        assertTrue(assertThrows(JkvmException.class, () -> CommandLine.parse("-chardev", "null,id=q", "-mon", "chardev=q,mode=control"))
                .getMessage().contains("mode=control"));
        assertEquals(false, config("-global", "PIIX4_PM.disable_s3=1").s3());
        config("-net", "none", "-nic", "none", "-no-hpet", "-rtc", "base=utc,clock=host");
        assertEquals("-net user: jkvm has no network devices: only -net none",
                assertThrows(JkvmException.class, () -> CommandLine.parse("-net", "user")).getMessage());
        assertTrue(assertThrows(JkvmException.class, () -> CommandLine.parse("-rtc", "base=localtime")).getMessage()
                .startsWith("-rtc base=localtime: unsupported 'base=localtime'"));
    }
}
