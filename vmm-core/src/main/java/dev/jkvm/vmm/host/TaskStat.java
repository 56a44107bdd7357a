package dev.jkvm.vmm.host;

import java.io.FileInputStream;
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
        // Only the line's head, as bytes: the run's watcher asks every few ms at first, interpreted,
        // and the state follows the command name, whose last ')' ends it (later fields have none).
        byte[] head = new byte[HEAD];
        int n;
        try (FileInputStream in = new FileInputStream("/proc/self/task/" + tid + "/stat")) {
            n = in.readNBytes(head, 0, HEAD);
        } catch (IOException e) {
            return '?';
        }
        for (int i = n - 1; i >= 0; i--) {
            if (head[i] == ')') {
                return i + 2 < n && head[i + 1] == ' ' ? (char) head[i + 2] : '?';
            }
        }
        return '?';
    }

    /** Enough of the line for the state: the pid, a command name of at most 15 bytes in parentheses. */
    private static final int HEAD = 256;

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
