package dev.kiln.pipeline;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.CompletionException;

/**
 * Where the stack trace of an unexpected failure goes when there is no build record to keep it:
 * {@code <state>/crashes/<time>-<what>.log}. The terminal gets one line naming the file.
 */
public final class CrashReport {

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);

    private CrashReport() {
    }

    /**
     * Writes the trace of {@code e} to a new file under {@code state}/crashes and returns it; when
     * the state folder cannot take it (it may be the very thing that failed), a temporary file.
     */
    public static Path write(Path state, String what, Throwable e) {
        String name = STAMP.format(Instant.now()) + "-" + what.replaceAll("[^A-Za-z0-9._-]", "_") + ".log";
        String text = "kiln " + KilnVersion.get() + ", " + Instant.now() + "\n" + trace(e);
        try {
            Path dir = Files.createDirectories(state.resolve("crashes"));
            return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException stateUnwritable) {
            try {
                return Files.writeString(Files.createTempFile("kiln-crash-", ".log"), text, StandardCharsets.UTF_8);
            } catch (IOException tmpUnwritable) {
                throw new UncheckedIOException(tmpUnwritable);
            }
        }
    }

    /** The one line for the terminal: what failed, where the trace is, and that it is Kiln's fault. */
    public static String line(Throwable e, Path trace) {
        // Some messages (Jackson's) run over several lines: the terminal gets the first.
        String what = String.valueOf(rootOf(e)).lines().findFirst().orElse("").strip();
        return "internal error: " + what + " (stack trace in " + trace
                + "; a bug in Kiln, or an engine or disk failure it has no message for)";
    }

    static String trace(Throwable e) {
        StringWriter out = new StringWriter();
        e.printStackTrace(new PrintWriter(out));
        return out.toString();
    }

    /** The exception that says what happened, without the wrappers that only carried it. */
    private static Throwable rootOf(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && (cause instanceof UncheckedIOException || cause instanceof CompletionException
                || cause instanceof java.lang.reflect.InvocationTargetException)) {
            cause = cause.getCause();
        }
        return cause;
    }
}
