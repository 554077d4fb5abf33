package dev.kiln;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./kiln serve --port 0 --json} of a project, through the real launcher: its URL from the
 * JSON document it prints once serving, its standard error kept for assertions (no secret may
 * appear there). Closing stops it as SIGTERM does.
 */
public final class RunningService implements AutoCloseable {

    private final Process process;
    private final JsonNode started;
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    private RunningService(Process process) throws IOException {
        this.process = process;
        Thread.ofVirtual().start(() -> {
            try {
                process.getErrorStream().transferTo(stderr);
            } catch (IOException e) {
                // the service stopped
            }
        });
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(json.getFactory().createParser(process.getInputStream()));
        if (first == null || !first.has("url")) {
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("kiln serve did not start: " + first + "\n--- its stderr\n" + stderr());
        }
        this.started = first;
    }

    /** Starts the service with {@code options} besides {@code --port 0 --json}. */
    public static RunningService start(KilnProject project, Map<String, String> env, String... options) throws IOException {
        List<String> args = new ArrayList<>(List.of("serve", "--port", "0", "--json"));
        args.addAll(List.of(options));
        return new RunningService(project.start(args, env));
    }

    /** What it printed once serving. */
    public JsonNode started() {
        return started;
    }

    public URI base() {
        return URI.create(started.get("url").asText());
    }

    public Process process() {
        return process;
    }

    /** What it wrote to standard error so far. */
    public String stderr() {
        synchronized (stderr) {
            return stderr.toString();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
