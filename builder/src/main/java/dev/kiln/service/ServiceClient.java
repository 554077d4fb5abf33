package dev.kiln.service;

import dev.kiln.KilnException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A client of the service's build API, for {@code kiln build --remote}: submits a build, follows
 * its log as it happens (reconnecting after a dropped connection from the last event it saw),
 * and reads its end. The token goes only into the Authorization header, never into a message.
 *
 * <pre>{@code
 * ServiceClient service = new ServiceClient(URI.create("https://kiln.example.com/"), System.getenv("KILN_TOKEN"));
 * JsonNode build = service.submit(Map.of("packages", List.of("hello"), "ref", commit, "mode", "scratch"));
 * JsonNode end = service.follow(build.get("id").asLong(), event -> System.err.println(event.text()));
 * }</pre>
 */
public final class ServiceClient {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int RECONNECTS = 20;

    private final URI base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public ServiceClient(URI base, String token) {
        String s = base.toString();
        this.base = URI.create(s.endsWith("/") ? s : s + "/");
        this.token = token;
    }

    public URI base() {
        return base;
    }

    /** One event of a build's log. */
    public record Event(long index, String kind, String text) {
    }

    /** Submits a build and returns its document (its id, state, commit). */
    public JsonNode submit(Map<String, Object> body) {
        return send(HttpRequest.newBuilder(base.resolve("api/v1/builds")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))), "submit the build");
    }

    /** The build's document, with its result once it has ended. */
    public JsonNode get(long id) {
        return send(HttpRequest.newBuilder(base.resolve("api/v1/builds/" + id)).GET(), "read build #" + id);
    }

    /** Cancels the build. */
    public JsonNode cancel(long id) {
        return send(HttpRequest.newBuilder(base.resolve("api/v1/builds/" + id + "/cancel")).POST(HttpRequest.BodyPublishers.noBody()),
                "cancel build #" + id);
    }

    /**
     * Follows the build's log until it ends, handing each event to {@code events}; a dropped
     * connection is resumed after the last event seen.
     *
     * @return the end event: state, exitCode, message
     */
    public JsonNode follow(long id, Consumer<Event> events) {
        long next = 0;
        IOException last = null;
        for (int attempt = 0; attempt < RECONNECTS; attempt++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("api/v1/builds/" + id + "/log")).GET()
                    .header("Accept", "text/event-stream");
            if (next > 0) {
                request.header("Last-Event-ID", Long.toString(next - 1));
            }
            try {
                HttpResponse<java.io.InputStream> response = http.send(authorized(request).build(), HttpResponse.BodyHandlers.ofInputStream());
                if (response.statusCode() != 200) {
                    throw refused(response.statusCode(), new String(response.body().readAllBytes(), StandardCharsets.UTF_8),
                            "follow the log of build #" + id);
                }
                try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                    long index = -1;
                    String kind = "message";
                    StringBuilder data = new StringBuilder();
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        if (line.isEmpty()) {
                            if (kind.equals("end")) {
                                return JSON.readTree(data.toString());
                            }
                            if (index >= 0) {
                                events.accept(new Event(index, kind, data.toString()));
                                next = index + 1;
                            }
                            index = -1;
                            kind = "message";
                            data.setLength(0);
                        } else if (line.startsWith("id: ")) {
                            index = Long.parseLong(line.substring(4));
                        } else if (line.startsWith("event: ")) {
                            kind = line.substring(7);
                        } else if (line.startsWith("data: ")) {
                            data.append(line.substring(6));
                        }
                    }
                }
            } catch (IOException e) {
                last = e;
                sleep();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw KilnException.interrupted();
            }
        }
        throw KilnException.environment("lost the log of build #" + id + " on " + base + " (" + last + "); it goes on: see "
                + base.resolve("api/v1/builds/" + id));
    }

    private JsonNode send(HttpRequest.Builder request, String what) {
        try {
            HttpResponse<String> response = http.send(authorized(request).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw refused(response.statusCode(), response.body(), what);
            }
            return JSON.readTree(response.body());
        } catch (ConnectException e) {
            throw KilnException.environment("cannot reach Kiln's service at " + base + ": check --remote (KILN_REMOTE) and that it runs");
        } catch (IOException e) {
            throw KilnException.environment("cannot " + what + " on " + base + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw KilnException.interrupted();
        }
    }

    private HttpRequest.Builder authorized(HttpRequest.Builder request) {
        return request.header("Authorization", "Bearer " + token).timeout(Duration.ofMinutes(5));
    }

    /** A refusal, as one line: the service's own error text, and what to do about a token it refused. */
    private KilnException refused(int status, String body, String what) {
        String error;
        try {
            error = JSON.readTree(body).path("error").asString(body);
        } catch (RuntimeException e) {
            error = body;
        }
        return switch (status) {
            case 401 -> KilnException.badInput("the service refused KILN_TOKEN (" + error + "): ask its admin for a token"
                    + " (./kiln token create on the service's machine)");
            case 403 -> KilnException.badInput("cannot " + what + ": " + error);
            case 400, 404, 409 -> KilnException.badInput("cannot " + what + ": " + error);
            default -> KilnException.environment("cannot " + what + " on " + base + " (HTTP " + status + "): " + error);
        };
    }

    private static void sleep() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw KilnException.interrupted();
        }
    }
}
