package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.memory.MemoryMap.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.RunResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each loader end to end on KVM: the kernel it loaded runs, and sees what the protocol promises. */
@RequiresKvm
class KvmBootTest {

    private static final Duration TINY_KERNEL_LIMIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Path text(String name, String content) throws IOException {
        return TestImages.write(dir, name, (content + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void multibootKernelRunsWithItsInfoAndModules() throws Exception {
        Path kernel = TestImages.write(dir, "mb.elf", TestKernels.multibootElf());
        Path mod = text("mod", "module text");
        try (TinyVm vm = new TinyVm(64 * MIB)) {
            BootEntry e = MultibootLoader.load(new BootRequest(kernel, mod + " arg1,"  + mod, "console=ttyS0"), vm.memory, vm.e820);
            String out = vm.run(e, TINY_KERNEL_LIMIT);
            assertEquals("MB OK\n" + kernel + " console=ttyS0\njkvm\n" + mod + " arg1\nmodule text", out);
            assertEquals(RunResult.Reason.HALTED, vm.result().reason(), vm.result().message());
        }
    }

    @Test
    void aoutKludgeKernelRuns() throws Exception {
        Path kernel = TestImages.write(dir, "mb.bin", TestKernels.multibootAout(0x1000));
        Path mod = text("mod", "m");
        try (TinyVm vm = new TinyVm(64 * MIB)) {
            BootEntry e = KernelLoader.load(new BootRequest(kernel, mod.toString(), ""), vm.memory, vm.e820);
            assertEquals("MB OK\n" + kernel + " \njkvm\n" + mod + "\nm", vm.run(e, TINY_KERNEL_LIMIT));
        }
    }

    @Test
    void pvhKernelRunsWithItsStartInfo() throws Exception {
        Path kernel = TestImages.write(dir, "vmlinux", TestKernels.pvhElf());
        Path initrd = text("initrd", "initrd text");
        try (TinyVm vm = new TinyVm(64 * MIB)) {
            BootEntry e = KernelLoader.load(new BootRequest(kernel, initrd.toString(), "root=/dev/vda"), vm.memory, vm.e820);
            assertEquals("PVH OK\nroot=/dev/vda\ninitrd text", vm.run(e, TINY_KERNEL_LIMIT));
            assertEquals(RunResult.Reason.HALTED, vm.result().reason(), vm.result().message());
        }
    }

    @Test
    void linuxKernelRunsIn64BitModeWithItsZeroPage() throws Exception {
        Path kernel = TestImages.write(dir, "bzImage", TestKernels.linux64BzImage());
        Path initrd = text("initrd", "initrd text");
        try (TinyVm vm = new TinyVm(128 * MIB)) {
            BootEntry e = KernelLoader.load(new BootRequest(kernel, initrd.toString(), "console=ttyS0"), vm.memory, vm.e820);
            assertEquals("LINUX64 OK\nconsole=ttyS0\ninitrd text", vm.run(e, TINY_KERNEL_LIMIT));
            assertEquals(RunResult.Reason.HALTED, vm.result().reason(), vm.result().message());
        }
    }

    /**
     * How long a real kernel may take to print the lines a test waits for. Generous: where KVM
     * itself is emulated (nested without hardware support) a guest runs at about a million
     * instructions a second, and the PVH kernel needs ~30 s there to reach its e820 printout; on
     * real hardware it is well under a second. The run ends as soon as the line is seen.
     */
    private static final Duration REAL_KERNEL_LIMIT = Duration.ofMinutes(5);

    private static String describe(TinyVm vm, String out) {
        return vm.result().message() + "; " + vm.state() + "; serial output:\n" + out;
    }

    @Test
    void debianKernelBootsThroughPvhToItsFirstConsoleLines() throws Exception {
        DebianKernel d = DebianKernel.obtain(true);
        try (TinyVm vm = new TinyVm(256 * MIB)) {
            String cmdline = "earlyprintk=serial,ttyS0,115200 console=ttyS0";
            BootEntry e = KernelLoader.load(new BootRequest(d.kernel(), d.initrd().toString(), cmdline), vm.memory, vm.e820);
            assertEquals(PvhLoader.FORMAT, e.format());
            BootEntry.Placement initrd = e.placements().stream().filter(p -> p.what().equals("initrd")).findFirst().orElseThrow();
            String ramdisk = String.format("RAMDISK: [mem 0x%08x-0x%08x]", initrd.base(), RamPlanner.alignUp(initrd.end(), 4096) - 1);
            String out = vm.run(e, REAL_KERNEL_LIMIT, "RAMDISK:");
            assertTrue(out.contains("Linux version 6."), describe(vm, out));
            assertTrue(out.contains("Command line: " + cmdline), describe(vm, out));
            // The kernel reports the memory map the loader handed it, as it would a BIOS's.
            assertTrue(out.contains("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"), describe(vm, out));
            assertTrue(out.contains("BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable"), describe(vm, out));
            assertTrue(out.contains(ramdisk), "the initrd where the loader put it: " + ramdisk + "; " + describe(vm, out));
        }
    }

    @Test
    void debianBzImageRunsItsDecompressorWithTheZeroPage() throws Exception {
        DebianKernel d = DebianKernel.obtain(false);
        try (TinyVm vm = new TinyVm(256 * MIB)) {
            // "nokaslr" makes the decompressor say so on the early console: proof that it runs in
            // 64-bit mode, found the zero page in RSI, read the command line and set up COM1.
            String cmdline = "nokaslr earlyprintk=serial,ttyS0,115200 console=ttyS0";
            BootEntry e = KernelLoader.load(new BootRequest(d.kernel(), d.initrd().toString(), cmdline), vm.memory, vm.e820);
            assertEquals(LinuxLoader.FORMAT, e.format());
            String out = vm.run(e, REAL_KERNEL_LIMIT, "KASLR disabled");
            assertTrue(out.contains("KASLR disabled: 'nokaslr' on cmdline."), describe(vm, out));
        }
    }
}
