package dev.jkvm.vmm.serial;

import dev.jkvm.vmm.monitor.Monitor;
import dev.jkvm.vmm.monitor.MonitorServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Standard input shared by the serial console and the monitor, as QEMU's {@code -nographic} mux:
 * keys go to the guest's COM1 until {@code Ctrl-A c} switches to the monitor (and back);
 * {@code Ctrl-A x} quits, {@code Ctrl-A h} lists the keys, {@code Ctrl-A Ctrl-A} sends one
 * {@code Ctrl-A} to the guest. Reads on its own daemon thread, blocking: no polling.
 */
public final class StdioMux implements Runnable {

    private static final int CTRL_A = 1;
    /** A monitor command line typed on the terminal holds at most this many bytes; more are not taken. */
    static final int MONITOR_LINE_LIMIT = 4096;

    private final InputStream in;
    private final PrintStream out;
    private final SerialConsole serial;
    private final Supplier<Monitor> monitor;
    private final Runnable quit;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final byte[] one = new byte[1];
    private boolean escape;
    private boolean inMonitor;

    /**
     * @param monitor the monitor {@code Ctrl-A c} switches to (asked for then), or null for none
     * @param quit what {@code Ctrl-A x} does
     */
    public StdioMux(InputStream in, PrintStream out, SerialConsole serial, Supplier<Monitor> monitor, Runnable quit) {
        this.in = in;
        this.out = out;
        this.serial = serial;
        this.monitor = monitor;
        this.quit = quit;
    }

    /** Starts reading on a daemon thread. */
    public void start() {
        Thread.ofPlatform().name("jkvm stdin").daemon(true).start(this);
    }

    @Override
    public void run() {
        byte[] buf = new byte[256];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    key(buf[i] & 0xff);
                }
            }
        } catch (IOException e) {
            // standard input closed: the guest goes on without input
        }
    }

    /** One byte of input. */
    void key(int b) {
        if (escape) {
            escape = false;
            switch (b) {
                case 'x' -> {
                    quit.run(); // first: a standard output nobody reads must not keep the guest running
                    out.print("\r\nQEMU: Terminated\r\n");
                    out.flush();
                }
                case 'c' -> switchMonitor();
                case 'h' -> {
                    out.print("\r\nC-a h    print this help\r\nC-a x    exit emulator\r\nC-a c    switch between console and monitor\r\n"
                            + "C-a C-a  sends C-a\r\n");
                    out.flush();
                }
                case CTRL_A -> deliver(b);
                default -> {
                }
            }
            return;
        }
        if (b == CTRL_A) {
            escape = true;
            return;
        }
        deliver(b);
    }

    private void switchMonitor() {
        if (monitor == null) {
            return;
        }
        inMonitor = !inMonitor;
        if (inMonitor) {
            out.print("\r\n" + MonitorServer.PROMPT);
        } else {
            out.print("\r\n");
        }
        out.flush();
    }

    private void deliver(int b) {
        if (!inMonitor) {
            one[0] = (byte) b;
            serial.send(one, 0, 1); // waits while the guest has a full queue unread: stdin is then read no further
            return;
        }
        if (b == '\r' || b == '\n') {
            out.print("\r\n");
            String result = monitor.get().execute(line.toString(StandardCharsets.UTF_8));
            out.print(result.replace("\n", "\r\n"));
            out.print(MonitorServer.PROMPT);
            out.flush();
            line.reset();
        } else if (b == 0x7f || b == 8) {
            byte[] bytes = line.toByteArray();
            if (bytes.length > 0) {
                line.reset();
                line.write(bytes, 0, bytes.length - 1);
                out.print("\b \b");
                out.flush();
            }
        } else if (line.size() < MONITOR_LINE_LIMIT) {
            line.write(b);
            out.write(b); // echo: the terminal is raw
            out.flush();
        }
    }
}
