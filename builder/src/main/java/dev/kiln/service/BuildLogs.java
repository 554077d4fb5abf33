package dev.kiln.service;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live logs of the service's builds: one file per build ({@code <id>.log}, one event per line:
 * its kind, {@code @} and the time in epoch milliseconds, a tab, its text), written as the build
 * goes, so a reader can follow a running build and resume from any event after a dropped
 * connection, and a finished build's log is read back from its file after a restart.
 */
public final class BuildLogs {

    /**
     * One event of a build's log: a stage, a notice, or a line of the build's output. {@code index} counts from 0.
     *
     * @param at when it was written; empty in logs written before events had times
     */
    public record Event(long index, String kind, String text, Optional<Instant> at) {
    }

    private final Path folder;
    private final Map<Long, Live> live = new ConcurrentHashMap<>();

    public BuildLogs(Path folder) {
        this.folder = folder;
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the build log folder " + folder, e);
        }
    }

    /** A running build's log, for writing; a build started again goes on after its earlier events. */
    Live open(long id) {
        List<Event> earlier = read(id, 0);
        Live log = new Live(file(id), earlier.size());
        live.put(id, log);
        return log;
    }

    /** Marks the build's log complete: followers read to its end and stop. */
    void close(long id) {
        Live log = live.remove(id);
        if (log != null) {
            log.close();
        }
    }

    /** The events from {@code from} on, as far as they are written now. */
    public List<Event> read(long id, long from) {
        try (Follower f = follow(id, from)) {
            return f.next();
        }
    }

    /**
     * A reader of the build's log from event {@code from} on that keeps its place: each
     * {@link Follower#next} reads only what was written since, so following a long log costs its
     * length once, not once per new line.
     */
    public Follower follow(long id, long from) {
        return new Follower(file(id), from);
    }

    /** See {@link #follow}. Reads whole lines only: a line being written is read once it ends. */
    public static final class Follower implements AutoCloseable {
        private final Path file;
        private final long from;
        private java.nio.channels.FileChannel channel;
        private final java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
        private long index;

        private Follower(Path file, long from) {
            this.file = file;
            this.from = Math.max(0, from);
        }

        /** The events written since the last call (from {@code from} on), in order. */
        public List<Event> next() {
            List<Event> events = new ArrayList<>();
            try {
                if (channel == null) {
                    if (!Files.exists(file)) {
                        return events; // not begun yet
                    }
                    channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ);
                }
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(64 * 1024);
                while (channel.read(buffer.clear()) > 0) {
                    byte[] bytes = buffer.array();
                    int start = 0;
                    for (int i = 0; i < buffer.position(); i++) {
                        if (bytes[i] == '\n') {
                            pending.write(bytes, start, i - start);
                            String line = pending.toString(StandardCharsets.UTF_8);
                            pending.reset();
                            if (index >= from) {
                                events.add(parse(index, line));
                            }
                            index++;
                            start = i + 1;
                        }
                    }
                    pending.write(bytes, start, buffer.position() - start);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return events;
        }

        @Override
        public void close() {
            try {
                if (channel != null) {
                    channel.close();
                }
            } catch (IOException e) {
                // read only
            }
        }
    }

    /** One line of a log file as its event: {@code kind[@millis]<TAB>text}; a line without a tab is output. */
    private static Event parse(long index, String line) {
        int tab = line.indexOf('\t');
        if (tab < 0) {
            return new Event(index, "log", line, Optional.empty());
        }
        String kind = line.substring(0, tab);
        int at = kind.indexOf('@');
        Optional<Instant> time = at > 0 && kind.substring(at + 1).matches("\\d{1,18}")
                ? Optional.of(Instant.ofEpochMilli(Long.parseLong(kind.substring(at + 1)))) : Optional.empty();
        return new Event(index, at > 0 ? kind.substring(0, at) : kind, line.substring(tab + 1), time);
    }

    /**
     * Waits until the log of a running build has more than {@code count} events, or it is complete,
     * at most {@code wait}.
     *
     * @return false when the log is complete (or the build is not running) and has no more than {@code count} events
     */
    public boolean await(long id, long count, Duration wait) throws InterruptedException {
        Live log = live.get(id);
        if (log == null) {
            return false;
        }
        return log.await(count, wait);
    }

    /** Whether the build's log is still being written. */
    public boolean writing(long id) {
        return live.containsKey(id);
    }

    private Path file(long id) {
        return folder.resolve(id + ".log");
    }

    /** A log being written. Every event is flushed at once: a follower reads the file. */
    static final class Live {
        private final BufferedWriter out;
        private long count;
        private boolean closed;
        private long lastWrite = System.nanoTime();

        private Live(Path file, long count) {
            this.count = count;
            try {
                this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the build log " + file, e);
            }
        }

        synchronized void append(String kind, String text) {
            if (closed) {
                return;
            }
            try {
                // one event per line: a line break inside the text would start a false event
                out.write(kind + "@" + System.currentTimeMillis() + "\t" + text.replace('\n', ' ').replace('\r', ' '));
                out.newLine();
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            count++;
            lastWrite = System.nanoTime();
            notifyAll();
        }

        /** When the build last wrote, as {@link System#nanoTime()}: the silent-log timeout reads it. */
        synchronized long lastWrite() {
            return lastWrite;
        }

        synchronized boolean await(long seen, Duration wait) throws InterruptedException {
            long deadline = System.nanoTime() + wait.toNanos();
            while (count <= seen && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return true; // nothing new yet, but more may come
                }
                wait(Math.max(1, left / 1_000_000));
            }
            return count > seen;
        }

        private synchronized void close() {
            closed = true;
            try {
                out.close();
            } catch (IOException e) {
                // every event was flushed when written
            }
            notifyAll();
        }
    }
}
