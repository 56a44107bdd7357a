package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DebugExitPortTest {

    @Test
    void statusIsValueShiftedLeftOrOne() {
        assertEquals(1, DebugExitPort.exitStatus(0));
        assertEquals(0x21, DebugExitPort.exitStatus(0x10));
        assertEquals(0x41, DebugExitPort.exitStatus(0x20));
        assertEquals(0x1ff, DebugExitPort.exitStatus(0xff));
    }

    @Test
    void guestWritesThroughTheBusRequestExit() {
        List<Integer> statuses = new ArrayList<>();
        PortBus bus = new PortBus();
        bus.register(DebugExitPort.DEFAULT_IOBASE, DebugExitPort.DEFAULT_IOSIZE, new DebugExitPort(statuses::add));

        bus.write(0xf4, 1, 0x10);   // outb: the common "success" code of test kernels
        bus.write(0xf4, 4, 0x31);   // outl
        bus.write(0xf4, 2, 0x0102); // outw
        assertEquals(List.of(0x21, 0x63, 0x205), statuses);
    }

    @Test
    void writeIsMaskedToItsSize() {
        List<Integer> statuses = new ArrayList<>();
        DebugExitPort port = new DebugExitPort(statuses::add);
        port.write(0, 1, 0x1ff);
        port.write(0, 2, 0x12345);
        assertEquals(List.of(0x1ff, (0x2345 << 1) | 1), statuses);
    }

    @Test
    void readsReturnZeroAsQemuDoes() {
        List<Integer> statuses = new ArrayList<>();
        PortBus bus = new PortBus();
        bus.register(0xf4, 1, new DebugExitPort(statuses::add));
        assertEquals(0, bus.read(0xf4, 1));
        assertEquals(0, bus.read(0xf4, 4));
        assertEquals(List.of(), statuses); // reading never requests an exit
    }
}
