package dev.kiln;

/**
 * What the user did wrong or what the environment lacks: a one-line message for a person and
 * the exit code the CLI returns. Everything else is a bug and keeps its stack trace.
 */
public class KilnException extends RuntimeException {

    /** Exit code: the build itself failed (compile error, failing %check, ...). */
    public static final int BUILD_FAILED = 1;
    /** Exit code: bad input or configuration; nothing was changed. */
    public static final int BAD_INPUT = 2;
    /** Exit code: the environment lacks something (no Docker engine, no signing key). */
    public static final int ENVIRONMENT = 3;
    /**
     * Exit code: a bug in Kiln (EX_SOFTWARE of sysexits.h), or a failure it did not foresee (an
     * engine or disk error it has no message for). The one line printed names the file that keeps
     * the stack trace: the build record, or outside a build a file under the state folder.
     */
    public static final int INTERNAL = 70;
    /** Exit code: stopped by Ctrl-C or SIGTERM (128 + SIGINT); what the run had started was removed. */
    public static final int INTERRUPTED = 130;

    private final int exitCode;

    public KilnException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public KilnException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public static KilnException badInput(String message) {
        return new KilnException(BAD_INPUT, message);
    }

    public static KilnException environment(String message) {
        return new KilnException(ENVIRONMENT, message);
    }

    public static KilnException buildFailed(String message) {
        return new KilnException(BUILD_FAILED, message);
    }

    /** The run was stopped by a signal; the CLI prints this one line instead of what the builds said while stopping. */
    public static KilnException interrupted() {
        return new KilnException(INTERRUPTED, "interrupted: the builds were stopped and their containers and images removed");
    }

    public int exitCode() {
        return exitCode;
    }
}
