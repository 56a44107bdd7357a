package dev.jkvm.vmm.gdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

/**
 * One debugger connection: a byte stream each way. Closing it ends a blocked read.
 *
 * <pre>{@code
 * Connection c = Connection.of(socketChannel);
 * }</pre>
 */
interface Connection extends AutoCloseable {

    InputStream input();

    OutputStream output();

    /** Where the debugger connects from, for log lines. */
    String peer();

    @Override
    void close();

    /** {@code 127.0.0.1:40312}, {@code [::1]:40312} (no name lookup, no slash), or what a unix socket says. */
    static String describe(SocketAddress remote) {
        if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
            String host = inet.getAddress().getHostAddress();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return remote == null || remote.toString().isEmpty() ? "a local socket" : remote.toString();
    }

    static Connection of(SocketChannel channel) {
        InputStream in = Channels.newInputStream(channel);
        OutputStream out = Channels.newOutputStream(channel);
        String peer;
        try {
            SocketAddress remote = channel.getRemoteAddress();
            peer = describe(remote);
        } catch (IOException e) {
            peer = "an unknown peer";
        }
        String from = peer;
        return new Connection() {
            @Override
            public InputStream input() {
                return in;
            }

            @Override
            public OutputStream output() {
                return out;
            }

            @Override
            public String peer() {
                return from;
            }

            @Override
            public void close() {
                try {
                    channel.close();
                } catch (IOException e) {
                    // Closing a broken connection: nothing left to do.
                }
            }
        };
    }
}
