package dev.jkvm.vmm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupPhasesTest {

    @Test
    void aSchedstatLinesFirstFieldIsItsCpuTime(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("schedstat");
        Files.writeString(f, "123456789 4242 17\n");
        assertEquals(123456789L, StartupPhases.cpuNanos(f.toString()));
    }

    @Test
    void anUnreadableOrEmptyFileIsNoTime(@TempDir Path dir) throws Exception {
        assertEquals(0, StartupPhases.cpuNanos(dir.resolve("missing").toString()));
        Path empty = Files.createFile(dir.resolve("empty"));
        assertEquals(0, StartupPhases.cpuNanos(empty.toString()));
    }

    @Test
    void onlyAStartupDebugValueRecords() {
        assertEquals(true, StartupPhases.enabled("startup"));
        assertEquals(false, StartupPhases.enabled(null));
        assertEquals(false, StartupPhases.enabled("1"));
    }

    @Test
    void theLaunchersStartIsReadInMicroseconds() {
        assertEquals(1733070000123456L, StartupPhases.launchMicros("1733070000.123456", 7));
        assertEquals(1733070000123456L, StartupPhases.launchMicros("1733070000,123456", 7));
        assertEquals(7, StartupPhases.launchMicros("soon", 7));
        assertEquals(7, StartupPhases.launchMicros(null, 7));
    }
}
