package dev.kiln.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one place user-facing output goes. Results (and JSON) go to stdout, so a pipeline can
 * parse them; progress, build logs and errors go to stderr. Text that may come from a build
 * (log lines, file names in messages) reaches the terminal with its control characters made
 * visible, so a build cannot clear the screen, set the window title or colour a forged line; and
 * the echo of build logs stops after {@link #ECHO_BYTES}, as the build record keeps the log.
 */
public final class Output {

    /**
     * Build log bytes echoed to the terminal per command. An ordinary build prints far less; past it
     * a flood would only fill a CI job's log or a scroll-back buffer, and build.log in the build
     * record keeps the head and the tail of every build's output.
     */
    static final long ECHO_BYTES = 4L << 20;
    private static final String LOG_PREFIX = "  | ";

    private final PrintWriter out;
    private final PrintWriter err;
    private final long start = System.nanoTime();
    private long echoed;
    private boolean echoStopped;

    private Output(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    public static Output standard() {
        return new Output(new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true),
                new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
    }

    static Output interactive(PrintWriter shell) {
        return new Output(shell, shell);
    }

    static Output to(PrintStream out, PrintStream err) {
        return new Output(new PrintWriter(out, true), new PrintWriter(err, true));
    }

    /** A line of the command's result. */
    public void result(String line) {
        out.println(visible(line, true));
        out.flush();
    }

    /** The command's result as one JSON document. */
    public void json(Object document) {
        out.println(Json.MAPPER.writeValueAsString(document));
        out.flush();
    }

    /** A stage or notice, stamped with the time since the command started. */
    public void progress(String line) {
        double seconds = (System.nanoTime() - start) / 1e9;
        err.printf("[%7.1fs] %s%n", seconds, visible(line, false));
        err.flush();
    }

    /** A line of a live build log, until {@link #ECHO_BYTES} have been echoed; then one line says the echo stopped. */
    public synchronized void log(String line) {
        if (echoStopped) {
            return;
        }
        String shown = LOG_PREFIX + visible(line, false);
        echoed += shown.length() + 1;
        if (echoed > ECHO_BYTES) {
            echoStopped = true;
            err.println(LOG_PREFIX + "[kiln: build output not shown from here on, " + (ECHO_BYTES >> 20)
                    + " MiB were; build.log in the build record keeps its head and tail]");
        } else {
            err.println(shown);
        }
        err.flush();
    }

    public void error(String message) {
        err.println("kiln: " + visible(message, false));
        err.flush();
    }

    /**
     * {@code text} with every control character shown in caret notation ({@code ESC} as {@code ^[},
     * {@code BEL} as {@code ^G}, {@code CR} as {@code ^M}, {@code DEL} as {@code ^?}), C1 controls
     * (8-bit CSI and others) and bidirectional overrides as a backslash, u and four hex digits. Tab stays,
     * and newline too when {@code keepNewlines}.
     */
    static String visible(String text, boolean keepNewlines) {
        StringBuilder shown = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean plain = c == '\t' || (c == '\n' && keepNewlines) || (c >= 0x20 && c < 0x7F)
                    || (c > 0x9F && !bidiControl(c));
            if (plain) {
                if (shown != null) {
                    shown.append(c);
                }
                continue;
            }
            if (shown == null) {
                shown = new StringBuilder(text.length() + 8).append(text, 0, i);
            }
            if (c < 0x20) {
                shown.append('^').append((char) (c + 0x40));
            } else if (c == 0x7F) {
                shown.append("^?");
            } else {
                shown.append(String.format("\\u%04x", (int) c));
            }
        }
        return shown == null ? text : shown.toString();
    }

    /** Characters that reorder the text shown around them: a line could read differently from what it is. */
    private static boolean bidiControl(char c) {
        return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C;
    }

    public void flush() {
        out.flush();
        err.flush();
    }

    /** Made on the first JSON document: most commands print none, and the mapper costs a start some 300 classes. */
    private static final class Json {
        static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    }
}
