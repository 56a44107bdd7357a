package dev.jkvm.vmm.board;

import static org.junit.jupiter.api.Assertions.fail;

import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.SystemControl;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.memory.MemoryMap;
import java.io.OutputStream;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A hostile guest's port I/O against the PC's devices: every port, every size KVM hands over (1, 2,
 * 4), reads and writes of all-zeros, all-ones and random values. No device may throw (on the vCPU
 * thread that would end the run with an internal error the guest chose).
 */
class PcDevicesPortFuzzTest {

    @Test
    void everyPortEverySizeNeitherThrowsNorReachesPastTheBus() {
        PortBus bus = new PortBus();
        SystemControl control = new SystemControl() {
            @Override public void reset() { }
            @Override public void powerOff() { }
            @Override public void sleep(int slpTyp) { }
        };
        try (PcDevices devices = new PcDevices(bus, new MmioBus(), irq -> IrqLine.none(), control,
                List.of(OutputStream.nullOutputStream()), MemoryMap.pc(128 * MemoryMap.MIB, 64 * MemoryMap.KIB), Topology.SINGLE,
                status -> { }, PcDevices.Sleep.NEVER)) {
            Random random = new Random(17);
            int[] values = {0, -1, 0};
            for (int round = 0; round < 3; round++) {
                for (int port = 0; port < PortBus.PORT_COUNT; port++) {
                    for (int size : new int[] {1, 2, 4}) {
                        int value = round == 2 ? random.nextInt() : values[round];
                        try {
                            bus.read(port, size);
                            bus.write(port, size, value);
                            bus.read(port, size);
                        } catch (RuntimeException e) {
                            fail(String.format("port 0x%04x size %d value 0x%08x: %s", port, size, value, e), e);
                        }
                    }
                }
                devices.reset();
            }
        }
    }
}
