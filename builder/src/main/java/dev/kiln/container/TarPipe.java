package dev.kiln.container;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;

/**
 * A tar produced by a writer thread into a bounded pipe while the engine reads it: a tar of
 * gigabytes never exists whole, neither in memory nor as a temporary copy on disk. A failure of
 * the writer (a source that cannot be read) is thrown to the reader instead of a silent end of
 * the stream, so a truncated tar never reaches a container. Closing stops the writer.
 */
final class TarPipe extends InputStream {

    /** What the writer thread runs: writes the whole tar to {@code out}. */
    interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Large enough that the engine's reads rarely wait for the writer, small against any heap. */
    private static final int BUFFER = 1 << 20;

    private final PipedInputStream in;
    private final Thread writer;
    private volatile IOException failure;

    TarPipe(Body body) {
        PipedOutputStream out = new PipedOutputStream();
        try {
            in = new PipedInputStream(out, BUFFER);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // A platform thread: the pipe waits in synchronized blocks, which would pin a virtual thread's carrier on JDK 21.
        writer = Thread.ofPlatform().daemon().name("kiln-tar").start(() -> {
            try {
                body.writeTo(out);
            } catch (IOException e) {
                failure = e;
            } catch (RuntimeException e) {
                failure = new IOException(e);
            } finally {
                // Closed only after failure is set, so the reader's end of stream sees it.
                try {
                    out.close();
                } catch (IOException ignored) {
                    // the reader has gone; nothing is waiting for more
                }
            }
        });
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException e) {
            throw failure != null ? failure : e;
        }
        if (n < 0 && failure != null) {
            throw failure;
        }
        return n;
    }

    @Override
    public int available() throws IOException {
        return in.available();
    }

    /** Stops the writer (its next write fails on the closed pipe) and waits for it to end. */
    @Override
    public void close() throws IOException {
        in.close();
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
