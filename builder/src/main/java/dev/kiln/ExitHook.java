package dev.kiln;

/**
 * Something to undo when the JVM is stopped (Ctrl-C, SIGTERM) before its owner could: a build
 * container, a dependency image. Registered as a shutdown hook while it is open; {@link #close()}
 * runs the undo once and deregisters it. Something made after the stop began can no longer be
 * registered, so it is undone at once and the maker learns that the run was interrupted.
 *
 * <pre>{@code
 * ExitHook removal = ExitHook.register("kiln-remove-" + id, () -> remove(id));
 * ... use it ...
 * removal.close(); // removes it now, and no longer at exit
 * }</pre>
 */
public final class ExitHook implements AutoCloseable {

    private final Thread hook;
    private final Runnable undo;
    private boolean done;

    private ExitHook(String name, Runnable undo) {
        this.undo = undo;
        this.hook = new Thread(this::undoOnce, name);
    }

    /**
     * Runs {@code undo} at JVM exit unless closed first.
     *
     * @throws KilnException INTERRUPTED when the JVM is already stopping; {@code undo} has run then
     */
    public static ExitHook register(String name, Runnable undo) {
        ExitHook exitHook = new ExitHook(name, undo);
        try {
            Runtime.getRuntime().addShutdownHook(exitHook.hook);
        } catch (IllegalStateException stopping) {
            exitHook.undoOnce();
            throw KilnException.interrupted();
        }
        return exitHook;
    }

    /** Whether the JVM has begun to stop: no hook can be added then, even before any hook has run. */
    public static boolean stopping() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    /**
     * Runs the undo now and no longer at exit. It runs once in all: when the JVM is stopping and the
     * hook got there first, this waits for it to finish, so what comes next (removing the image
     * after its container) still happens in order.
     */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException stopping) {
            // The hook is running or will run; undoOnce lets only one of the two act.
        }
        undoOnce();
    }

    private synchronized void undoOnce() {
        if (done) {
            return;
        }
        done = true;
        undo.run();
    }
}
