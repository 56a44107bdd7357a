package dev.jkvm.vmm.gdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The debugger side of the protocol for socket tests: frames packets, checks acks and reply
 * checksums, undoes run-length encoding of replies. The read timeout only guards against a hung
 * test; no test measures time.
 */
final class GdbTestClient implements AutoCloseable {

    private static final int HANG_GUARD_MILLIS = 60_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private boolean noAck;

    GdbTestClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port));
        socket.setSoTimeout(HANG_GUARD_MILLIS);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Sends a packet and returns the reply (after checking the stub's ack). */
    String exchange(String payload) throws IOException {
        send(payload);
        return receive();
    }

    void send(String payload) throws IOException {
        sendRaw("$" + payload + "#" + Hex.number(Framing.checksum(payload), 2));
        if (!noAck) {
            int ack = in.read();
            if (ack != '+') {
                throw new IOException("expected an ack, got " + ack);
            }
        }
    }

    void sendRaw(String bytes) throws IOException {
        out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads one reply packet, acks it, and returns its payload, run-length decoded. */
    String receive() throws IOException {
        int c;
        while ((c = in.read()) != '$') {
            if (c < 0) {
                throw new IOException("connection closed");
            }
        }
        StringBuilder raw = new StringBuilder();
        while ((c = in.read()) != '#') {
            if (c < 0) {
                throw new IOException("connection closed inside a packet");
            }
            raw.append((char) c);
        }
        int sum = Integer.parseInt("" + (char) in.read() + (char) in.read(), 16);
        if (sum != Framing.checksum(raw)) {
            throw new IOException("bad checksum on " + raw);
        }
        if (!noAck) {
            sendRaw("+");
        }
        StringBuilder decoded = new StringBuilder();
        for (int i = 0; i < raw.length(); i++) {
            if (raw.charAt(i) == '*') {
                int repeats = raw.charAt(++i) - 29;
                decoded.append(String.valueOf(decoded.charAt(decoded.length() - 1)).repeat(repeats));
            } else {
                decoded.append(raw.charAt(i));
            }
        }
        return decoded.toString();
    }

    /** Reads the next raw byte (an ack). */
    int readByte() throws IOException {
        return in.read();
    }

    void noAck() throws IOException {
        String ok = exchange("QStartNoAckMode");
        if (!ok.equals("OK")) {
            throw new IOException("QStartNoAckMode: " + ok);
        }
        noAck = true;
    }

    /** Blocks until the stub closes the connection; true when it did. */
    boolean awaitClosed() throws IOException {
        try {
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
