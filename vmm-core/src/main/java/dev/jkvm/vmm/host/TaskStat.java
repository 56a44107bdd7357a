package dev.jkvm.vmm.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code /proc/self/task/TID/stat} of one of this process's threads, split into fields after the
 * command name (which may hold spaces): index 0 is field 3 ({@code state}) of proc(5).
 */
final class TaskStat {

    private TaskStat() {
    }

    /** The thread's scheduler state (field 3: R running, S sleeping, D waiting, ...), or '?' when it is gone. */
    static char state(int tid) {
        String[] f = fields(tid);
        return f == null || f[0].isEmpty() ? '?' : f[0].charAt(0);
    }

    /** The fields from field 3 on, or null when the thread is gone. */
    static String[] fields(int tid) {
        try {
            String s = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            return s.substring(s.lastIndexOf(')') + 2).strip().split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
