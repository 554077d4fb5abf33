package dev.kiln.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT) or SIGTERM while a command runs. The JVM runs its shutdown hooks and then
 * halts; this hook holds the halt until the command has cleaned up (the build service stops its
 * builds, which remove their containers and images) and printed its one line, at most
 * {@link #WAIT}. The process then exits with the signal's status (130, 143).
 *
 * <pre>{@code
 * try (Interruption signal = Interruption.watch()) {
 *     ... run the command ...
 *     if (signal.happened()) { out.error("interrupted"); }
 * }
 * }</pre>
 */
final class Interruption implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(45);

    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook = new Thread(this::holdHalt, "kiln-interrupted");
    private volatile boolean happened;

    private Interruption() {
    }

    static Interruption watch() {
        Interruption i = new Interruption();
        Runtime.getRuntime().addShutdownHook(i.hook);
        return i;
    }

    /**
     * Whether a signal arrived while the command ran. Also true when the JVM is shutting down but
     * this hook's thread has not been scheduled yet (no hook can be added then).
     */
    boolean happened() {
        return happened || dev.kiln.ExitHook.stopping();
    }

    private void holdHalt() {
        happened = true;
        try {
            finished.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The command is done and has printed what it prints: the JVM may halt now. */
    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running and returns now that the latch is open.
        }
    }
}
