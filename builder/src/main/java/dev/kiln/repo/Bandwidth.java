package dev.kiln.repo;

import dev.kiln.KilnException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cap on the bytes per second that all transfers of one run move together ({@code --max-rate}),
 * shared by every thread: each read is given its own slot on one timeline, so however many
 * transfers run at once their sum stays at the rate. There is no initial allowance, so
 * even a short run keeps to the cap.
 */
public final class Bandwidth {

    /** No cap. */
    public static final Bandwidth UNLIMITED = new Bandwidth(0);
    /** The largest read paid for at once: small, so the rate holds over a fraction of a second, not only over a run. */
    private static final long CHUNK = 16 * 1024;
    private static final Pattern RATE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)([KMG]?)(?:i?B?(?:/s)?)?", Pattern.CASE_INSENSITIVE);

    private final long bytesPerSecond;
    /** When, in nanoTime, the bytes granted so far have been paid for. */
    private long paidUntil = System.nanoTime();

    private Bandwidth(long bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
    }

    public static Bandwidth of(long bytesPerSecond) {
        return bytesPerSecond <= 0 ? UNLIMITED : new Bandwidth(bytesPerSecond);
    }

    /**
     * {@code --max-rate}'s value: bytes per second, with K, M or G for KiB, MiB, GiB ({@code 2M} is
     * 2 MiB/s, {@code 500K}, {@code 1.5M}); refused with one line naming it otherwise.
     */
    public static Bandwidth parse(String value) {
        Matcher m = RATE.matcher(value.strip());
        if (m.matches()) {
            double number = Double.parseDouble(m.group(1));
            long unit = switch (m.group(2).toUpperCase(Locale.ROOT)) {
                case "K" -> 1024L;
                case "M" -> 1024L * 1024;
                case "G" -> 1024L * 1024 * 1024;
                default -> 1L;
            };
            long rate = (long) (number * unit);
            if (rate >= 1024) {
                return new Bandwidth(rate);
            }
        }
        throw KilnException.badInput("--max-rate '" + value + "' is not a transfer rate: give bytes per second of at least 1K, "
                + "with K, M or G for KiB, MiB, GiB (2M = 2 MiB/s)");
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Waits until {@code bytes} more may be moved. */
    public void take(long bytes) {
        if (bytesPerSecond == 0 || bytes <= 0) {
            return;
        }
        long wake;
        synchronized (this) {
            long now = System.nanoTime();
            // an idle period earns no credit: the bytes after it are paid from now
            paidUntil = Math.max(paidUntil, now) + bytes * 1_000_000_000L / bytesPerSecond;
            wake = paidUntil;
        }
        long sleep = wake - System.nanoTime();
        if (sleep > 0) {
            try {
                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw KilnException.interrupted();
            }
        }
    }

    /** {@code in}, each read paid for on this cap. */
    public InputStream throttle(InputStream in) {
        if (bytesPerSecond == 0) {
            return in;
        }
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    take(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                // reads of at most one chunk, so one large read cannot run far ahead of the rate
                int n = super.read(buffer, offset, (int) Math.min(length, CHUNK));
                if (n > 0) {
                    take(n);
                }
                return n;
            }
        };
    }
}
