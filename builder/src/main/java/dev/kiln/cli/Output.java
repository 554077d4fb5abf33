package dev.kiln.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one place user-facing output goes. Results (and JSON) go to stdout, so a pipeline can
 * parse them; progress, build logs and errors go to stderr.
 */
public final class Output {

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private final PrintWriter out;
    private final PrintWriter err;
    private final long start = System.nanoTime();

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
        out.println(line);
        out.flush();
    }

    /** The command's result as one JSON document. */
    public void json(Object document) {
        out.println(JSON.writeValueAsString(document));
        out.flush();
    }

    /** A stage or notice, stamped with the time since the command started. */
    public void progress(String line) {
        double seconds = (System.nanoTime() - start) / 1e9;
        err.printf("[%7.1fs] %s%n", seconds, line);
        err.flush();
    }

    /** A line of a live build log. */
    public void log(String line) {
        err.println("  | " + line);
        err.flush();
    }

    public void error(String message) {
        err.println("kiln: " + message);
        err.flush();
    }

    public void flush() {
        out.flush();
        err.flush();
    }
}
