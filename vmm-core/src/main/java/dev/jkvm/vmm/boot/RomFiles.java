package dev.jkvm.vmm.boot;

import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * ROM files already read by this process, by path, each with the size, modification time and
 * file (device and inode) it had: machines booting one ROM read it once, and a file written,
 * replaced or renamed over since is read again. A file modified in the last two seconds is not
 * kept: a rewrite within one tick of a coarse clock would keep its modification time and size.
 * The bytes are shared by every machine that boots them and only ever read. Eight files.
 */
final class RomFiles {

    /** Younger than this, a file's modification time cannot yet tell a rewrite (FAT keeps 2 s). */
    static final long SETTLED_MILLIS = 2000;
    private static final int CAPACITY = 8;

    /** What a file was when it was read, and its bytes. */
    private static final class Read {
        final long size;
        final FileTime modified;
        final Object fileKey;
        final RomImage image;

        Read(BasicFileAttributes a, RomImage image) {
            this.size = a.size();
            this.modified = a.lastModifiedTime();
            this.fileKey = a.fileKey();
            this.image = image;
        }

        boolean describes(BasicFileAttributes a) {
            return size == a.size() && modified.equals(a.lastModifiedTime()) && Objects.equals(fileKey, a.fileKey());
        }
    }

    private static final Map<Path, Read> READ = Collections.synchronizedMap(new LinkedHashMap<>(CAPACITY, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Read> eldest) {
            return size() > CAPACITY;
        }
    });

    private RomFiles() {
    }

    /** The image read from {@code file} when it was as {@code now} says, or null. */
    static RomImage find(Path file, BasicFileAttributes now) {
        if (READ.isEmpty()) {
            return null;
        }
        Read e = READ.get(file);
        return e != null && e.describes(now) ? e.image : null;
    }

    /** Keeps {@code image}, read from {@code file} as {@code before} (taken before the read) described it. */
    static void keep(Path file, BasicFileAttributes before, RomImage image) {
        if (before.isRegularFile() && before.size() == image.bytes().length && before.fileKey() != null
                && System.currentTimeMillis() - before.lastModifiedTime().toMillis() >= SETTLED_MILLIS) {
            READ.put(file, new Read(before, image));
        }
    }

    /** Forgets every file (tests). */
    static void clear() {
        READ.clear();
    }
}
