package dev.kiln.repo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A shared hold on one snapshot of a {@link DirectoryRepository}: while any process holds one, a
 * publish does not prune that snapshot, so paths read from it stay readable however many publishes
 * happen meanwhile.
 *
 * <p>The hold is a shared {@link FileLock} on {@value #FILE} inside the snapshot, which every
 * publish creates before the snapshot goes live. The operating system drops the lock when the
 * process ends in any way, {@code kill -9} included, so a crashed reader never pins a snapshot for
 * good. One JVM cannot hold two locks on one file (and closing any second channel on it would drop
 * the first lock), so the leases of one JVM share one lock per snapshot, counted here.
 *
 * <p>A prune retires a snapshot only when it gets the lock exclusively: it then renames the folder
 * away (atomically) before releasing the lock, and deletes it afterwards. A reader that resolved the
 * link just before therefore either finds the lease file gone, or gets its lock after the rename and
 * sees the folder gone; both retry with the link as it is then.
 */
final class SnapshotLease implements AutoCloseable {

    /** The lock file inside each snapshot. */
    static final String FILE = ".kiln-lease";
    /** Prefix of a snapshot folder renamed away by a prune and not yet deleted. */
    static final String RETIRED_PREFIX = ".retired-";

    /** Snapshot real path to the one lock this JVM holds on it; guarded by itself. */
    private static final Map<Path, Held> HELD = new HashMap<>();

    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        int count = 1;

        Held(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }
    }

    private final Path snapshot;
    /** False for the rare read that could not lease (see {@link #acquire}): closing it releases nothing. */
    private final boolean counted;
    private boolean closed;

    private SnapshotLease(Path snapshot, boolean counted) {
        this.snapshot = snapshot;
        this.counted = counted;
    }

    /** The leased snapshot folder (a real path). */
    Path snapshot() {
        return snapshot;
    }

    /**
     * Leases the snapshot {@code current} names, or returns null when it names none.
     *
     * @param current the live snapshot's real path as it is at the moment of the call
     */
    static SnapshotLease acquire(Supplier<Path> current) {
        while (true) {
            Path snapshot = current.get();
            if (snapshot == null) {
                return null;
            }
            synchronized (HELD) {
                Held held = HELD.get(snapshot);
                if (held != null) {
                    held.count++;
                    return new SnapshotLease(snapshot, true);
                }
                FileChannel channel;
                try {
                    channel = open(snapshot);
                } catch (NoSuchFileException e) {
                    continue; // retired between resolving the link and opening: resolve again
                } catch (AccessDeniedException e) {
                    // A snapshot from before lease files, read by a user who may not write there: read it unleased, as then.
                    return new SnapshotLease(snapshot, false);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot lease snapshot " + snapshot, e);
                }
                try {
                    // Waits only while a prune holds it exclusively, that is for one rename.
                    FileLock lock = channel.lock(0, Long.MAX_VALUE, true);
                    if (!Files.isDirectory(snapshot)) {
                        channel.close(); // retired while we waited: the lock was on the old folder's file
                        continue;
                    }
                    HELD.put(snapshot, new Held(channel, lock));
                    return new SnapshotLease(snapshot, true);
                } catch (IOException e) {
                    closeQuietly(channel);
                    throw new UncheckedIOException("cannot lease snapshot " + snapshot, e);
                }
            }
        }
    }

    /** Opens the lease file for a shared lock, which needs reading only, so readers need no write access. */
    private static FileChannel open(Path snapshot) throws IOException {
        Path file = snapshot.resolve(FILE);
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            // A snapshot published before lease files existed; a retired folder's path is gone, so this fails for it too.
            return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
    }

    /**
     * Renames {@code snapshot} to {@code retired} if no process leases it.
     *
     * @return whether it was renamed; false when a reader (in this JVM or another) still holds it
     */
    static boolean retire(Path snapshot, Path retired) throws IOException {
        synchronized (HELD) {
            if (HELD.containsKey(snapshot.toRealPath())) {
                return false;
            }
            try (FileChannel channel = FileChannel.open(snapshot.resolve(FILE), StandardOpenOption.CREATE,
                    StandardOpenOption.READ, StandardOpenOption.WRITE);
                    FileLock lock = channel.tryLock(0, Long.MAX_VALUE, false)) {
                if (lock == null) {
                    return false;
                }
                // Renamed while locked, so a reader waiting for the lock finds the snapshot's path gone when it gets it.
                Files.move(snapshot, retired, StandardCopyOption.ATOMIC_MOVE);
                return true;
            }
        }
    }

    @Override
    public void close() {
        synchronized (HELD) {
            if (closed || !counted) {
                return;
            }
            closed = true;
            Held held = HELD.get(snapshot);
            if (held != null && --held.count == 0) {
                HELD.remove(snapshot);
                closeQuietly(held.channel); // closing the channel releases the lock
            }
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // The lock goes with the process at the latest.
        }
    }
}
