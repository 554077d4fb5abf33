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

    public int exitCode() {
        return exitCode;
    }
}
