package demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SerialBackend;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The embedding API without the extension: what the CLI itself does. */
class PlainMachineTest {

    @Test
    void helloThroughTheApi() {
        try (Machine m = Machine.create(MachineConfig.builder().firmware(BiosRom.bundled("hello"))
                .serial(SerialBackend.none()).build())) {
            RunResult r = m.run(Duration.ofSeconds(5));
            assertEquals("Hello from the guest\r\n", r.serial());
        }
    }
}
