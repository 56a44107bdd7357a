package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * A file a loader reads ({@code -kernel}, {@code -initrd}, a Multiboot module): read by ranges,
 * never whole (a vmlinux or an initrd may be large), and copied straight into guest memory. Every
 * failure becomes one line naming the option and the file.
 */
final class ImageFile implements AutoCloseable {

    private final String option;
    private final Path path;
    private final FileChannel channel;
    private final long size;

    private ImageFile(String option, Path path, FileChannel channel, long size) {
        this.option = option;
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    /**
     * Opens {@code path} for {@code option} ("-kernel", "-initrd").
     *
     * @throws JkvmException if it is missing, unreadable, a directory or empty
     */
    static ImageFile open(String option, Path path) {
        String name = option + " " + path;
        if (Files.isDirectory(path)) {
            throw new JkvmException(name + ": is a directory");
        }
        try {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            long size = ch.size();
            if (size == 0) {
                ch.close();
                throw new JkvmException(name + ": the file is empty");
            }
            return new ImageFile(option, path, ch, size);
        } catch (NoSuchFileException e) {
            // QEMU's words for a missing kernel, which harnesses (kvm-unit-tests) read as "skip"
            throw new JkvmException(option.equals("-kernel")
                    ? name + ": could not open kernel file '" + path + "': No such file or directory"
                    : name + ": no such file");
        } catch (AccessDeniedException e) {
            throw new JkvmException(name + ": permission denied");
        } catch (IOException e) {
            throw new JkvmException(name + ": cannot read: " + e.getMessage());
        }
    }

    Path path() {
        return path;
    }

    long size() {
        return size;
    }

    /**
     * Refuses a file larger than the guest's whole RAM before anything is read or loaded.
     *
     * @throws JkvmException naming both sizes
     */
    void requireAtMost(long ramBytes) {
        if (size > ramBytes) {
            throw refuse("too large for the guest's RAM: " + mib(size) + " file, " + mib(ramBytes) + " of RAM (give more -m)");
        }
    }

    /** A size for a message: {@code 7.9 MiB}. */
    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }

    /** The refusal of this file: one line, {@code "-kernel FILE: why"}. */
    JkvmException refuse(String why) {
        return new JkvmException(option + " " + path + ": " + why);
    }

    /**
     * {@code length} bytes from {@code offset}.
     *
     * @throws JkvmException "truncated" naming {@code what} when the file ends first
     */
    byte[] read(long offset, int length, String what) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw refuse(String.format("truncated: %s at 0x%x+0x%x is past the end of the %d-byte file",
                    what, offset, length, size));
        }
        ByteBuffer b = ByteBuffer.allocate(length);
        try {
            while (b.hasRemaining()) {
                if (channel.read(b, offset + b.position()) < 0) {
                    throw refuse("truncated while reading " + what + " (the file shrank)");
                }
            }
        } catch (IOException e) {
            throw refuse("cannot read: " + e.getMessage());
        }
        return b.array();
    }

    /** Up to {@code length} bytes from the start (fewer if the file is shorter). */
    byte[] head(int length) {
        return read(0, (int) Math.min(length, size), "the header");
    }

    /**
     * Copies {@code length} bytes from {@code offset} of the file to guest-physical {@code gpa},
     * through the bounds-checked view of guest memory.
     */
    void copyTo(GuestMemory memory, long gpa, long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw refuse(String.format("truncated: 0x%x bytes at 0x%x are past the end of the %d-byte file",
                    length, offset, size));
        }
        // Chunked, so each slice is a small ByteBuffer view and no guest range is touched twice.
        long chunk = 1L << 24;
        try {
            for (long done = 0; done < length; ) {
                long n = Math.min(chunk, length - done);
                ByteBuffer dst = memory.slice(gpa + done, n).asByteBuffer();
                while (dst.hasRemaining()) {
                    if (channel.read(dst, offset + done + dst.position()) < 0) {
                        throw refuse("truncated while loading (the file shrank)");
                    }
                }
                done += n;
            }
        } catch (IOException e) {
            throw refuse("cannot read: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Read-only: nothing was lost.
        }
    }
}
