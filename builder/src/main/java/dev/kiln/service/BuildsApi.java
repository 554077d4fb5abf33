package dev.kiln.service;

import com.sun.net.httpserver.HttpExchange;
import dev.kiln.KilnException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code /api/v1/builds}: submit, list, get, cancel and resubmit builds, follow a build's log as
 * Server-Sent Events (resuming after {@code Last-Event-ID} or from {@code ?from=N}), and fetch
 * what it made (RPMs, build record, provenance, guard report). A scratch build needs a token of
 * scope {@code build}, a publishing one {@code publish}; cancelling another's build needs {@code admin}.
 */
public final class BuildsApi {

    static final String PATH = "/api/v1/builds";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BuildsApi.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern ONE = Pattern.compile("/api/v1/builds/(\\d{1,18})(/cancel|/resubmit|/log|/artifacts(/.*)?)?");
    /** How often an idle log stream sends a comment, so proxies keep the connection. */
    private static final Duration KEEP_ALIVE = Duration.ofSeconds(15);

    private final BuildRunner runner;
    private final Path records;

    /**
     * @param records the folder of build records ({@code KilnConfig.records()}): artifacts are served from below it only
     */
    public BuildsApi(BuildRunner runner, Path records) {
        this.runner = runner;
        this.records = records.toAbsolutePath().normalize();
    }

    BuildRunner runner() {
        return runner;
    }

    void handle(HttpExchange exchange, TokenStore tokens, Clock clock) throws IOException {
        try {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (path.equals(PATH) || path.equals(PATH + "/")) {
                if (method.equals("POST")) {
                    submit(exchange, tokens, clock);
                } else if (method.equals("GET")) {
                    list(exchange, tokens, clock);
                } else {
                    notAllowed(exchange, "GET, POST");
                }
                return;
            }
            Matcher m = ONE.matcher(path);
            if (!m.matches()) {
                ApiServer.json(exchange, 404, Map.of("error", "no such resource: " + path));
                return;
            }
            long id = Long.parseLong(m.group(1));
            String action = m.group(2) == null ? "" : m.group(2);
            String wanted = action.equals("/cancel") || action.equals("/resubmit") ? "POST" : "GET";
            if (!method.equals(wanted)) {
                notAllowed(exchange, wanted);
                return;
            }
            Optional<ApiToken> token = ApiServer.signIn(exchange, tokens, clock, Scope.BUILD);
            if (token.isEmpty()) {
                return;
            }
            Optional<ServiceBuild> build = runner.queue().get(id);
            if (build.isEmpty()) {
                ApiServer.json(exchange, 404, Map.of("error", "no build #" + id));
                return;
            }
            switch (action) {
                case "" -> ApiServer.json(exchange, 200, full(build.get(), clock));
                case "/cancel" -> cancel(exchange, token.get(), build.get(), clock);
                case "/resubmit" -> resubmit(exchange, token.get(), build.get(), clock);
                case "/log" -> log(exchange, build.get(), () -> tokens.valid(token.get().name())
                        .filter(t -> t.created().equals(token.get().created())).isPresent());
                default -> artifacts(exchange, build.get(), m.group(3));
            }
        } catch (RuntimeException e) {
            ApiServer.failed(exchange, e, LOG);
        } finally {
            exchange.close();
        }
    }

    private void submit(HttpExchange exchange, TokenStore tokens, Clock clock) throws IOException {
        // the body names the mode, which says the scope needed: sign in first, with the least scope
        Optional<ApiToken> token = ApiServer.signIn(exchange, tokens, clock, Scope.BUILD);
        if (token.isEmpty()) {
            return;
        }
        JsonNode body;
        try (InputStream in = exchange.getRequestBody()) {
            body = JSON.readTree(in.readNBytes(64 * 1024));
        } catch (RuntimeException e) {
            ApiServer.json(exchange, 400, Map.of("error", "the body is not a JSON document: send {\"packages\": [...], \"ref\": \"main\"}"));
            return;
        }
        List<String> packages = new ArrayList<>();
        body.path("packages").forEach(p -> packages.add(p.asString()));
        Optional<String> since = body.hasNonNull("changedSince") ? Optional.of(body.get("changedSince").asString()) : Optional.empty();
        String ref = body.path("ref").asString("");
        String modeText = body.path("mode").asString("scratch");
        ServiceBuild.Mode mode;
        try {
            mode = ServiceBuild.Mode.valueOf(modeText.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            ApiServer.json(exchange, 400, Map.of("error", "mode '" + modeText + "' is not a mode: give scratch or publish"));
            return;
        }
        if (!token.get().scope().allows(mode.needs())) {
            ApiServer.forbidden(exchange, token.get(), mode.needs());
            return;
        }
        Optional<ServiceBuild.Bump> bump = body.hasNonNull("bump") ? Optional.of(ServiceBuild.Bump.parse(body.get("bump"))) : Optional.empty();
        ServiceBuild b = runner.submit(packages, since, ref, mode, body.path("acceptChanges").asBoolean(false), bump, token.get().name());
        exchange.getResponseHeaders().set("Location", PATH + "/" + b.id());
        ApiServer.json(exchange, 201, b.document(clock.instant()));
    }

    private void list(HttpExchange exchange, TokenStore tokens, Clock clock) throws IOException {
        if (ApiServer.signIn(exchange, tokens, clock, Scope.BUILD).isEmpty()) {
            return;
        }
        int limit = query(exchange, "limit").map(BuildsApi::number).orElse(100L).intValue();
        List<Map<String, Object>> builds = runner.queue().list(Math.max(1, Math.min(limit, 1000))).stream()
                .map(b -> b.document(clock.instant())).toList();
        ApiServer.json(exchange, 200, Map.of("builds", builds));
    }

    private static Map<String, Object> full(ServiceBuild b, Clock clock) {
        Map<String, Object> doc = b.document(clock.instant());
        doc.put("result", b.result().map(JSON::readTree).orElse(null));
        return doc;
    }

    private void cancel(HttpExchange exchange, ApiToken token, ServiceBuild b, Clock clock) throws IOException {
        if (!mayCancel(token.name(), token.scope(), b)) {
            ApiServer.json(exchange, 403, Map.of("error", "build #" + b.id() + " is " + b.submitter() + "'s: cancelling it needs scope admin"));
            return;
        }
        Optional<ServiceBuild.State> was = runner.cancel(b.id(), token.name());
        if (was.isEmpty()) {
            ApiServer.json(exchange, 409, Map.of("error", "build #" + b.id() + " has ended already (" + b.state().label() + ")"));
            return;
        }
        ApiServer.json(exchange, 200, full(runner.queue().get(b.id()).orElseThrow(), clock));
    }

    /** Whether the token named {@code token}, of {@code scope}, may cancel the build: its own, or any with admin. */
    static boolean mayCancel(String token, Scope scope, ServiceBuild b) {
        return b.submitter().equals(token) || scope.allows(Scope.ADMIN);
    }

    private void resubmit(HttpExchange exchange, ApiToken token, ServiceBuild b, Clock clock) throws IOException {
        if (!token.scope().allows(b.mode().needs())) {
            ApiServer.forbidden(exchange, token, b.mode().needs());
            return;
        }
        ServiceBuild again = runner.resubmit(b, token.name());
        exchange.getResponseHeaders().set("Location", PATH + "/" + again.id());
        ApiServer.json(exchange, 201, again.document(clock.instant()));
    }

    /** How often a log stream asks whether its reader still signs in. */
    static final Duration RECHECK = Duration.ofSeconds(5);

    /**
     * The log as Server-Sent Events: {@code id} is the event's index, {@code event} its kind
     * (stage, notice, log), then one {@code end} event with the final state once the build has ended.
     * Every {@link #RECHECK} it asks {@code signedIn}: a token revoked or run out, or a web session
     * ended, ends the stream (without an end event; a reconnect is refused), as it ends every request.
     */
    void log(HttpExchange exchange, ServiceBuild b, java.util.function.BooleanSupplier signedIn) throws IOException {
        long from = query(exchange, "from").map(BuildsApi::number).orElse(0L);
        String last = exchange.getRequestHeaders().getFirst("Last-Event-ID");
        if (last != null && last.matches("\\d{1,18}")) {
            from = Long.parseLong(last) + 1;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.getResponseHeaders().set("X-Accel-Buffering", "no"); // nginx in front: pass events at once
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        BuildLogs logs = runner.logs();
        long idle = System.nanoTime();
        long checked = idle;
        try (BuildLogs.Follower follower = logs.follow(b.id(), from)) {
            long next = from;
            while (true) {
                if (System.nanoTime() - checked > RECHECK.toNanos()) {
                    if (!signedIn.getAsBoolean()) {
                        return;
                    }
                    checked = System.nanoTime();
                }
                boolean writing = logs.writing(b.id());
                List<BuildLogs.Event> events = follower.next();
                for (BuildLogs.Event e : events) {
                    if (e.kind().equals("end")) {
                        continue; // sent last, from the database
                    }
                    out.write(("id: " + e.index() + "\nevent: " + e.kind() + "\ndata: " + e.text() + "\n\n").getBytes(StandardCharsets.UTF_8));
                }
                next += events.size();
                if (!events.isEmpty()) {
                    out.flush();
                    idle = System.nanoTime();
                }
                // a build's log closes after its end is in the database: only then can it have ended
                ServiceBuild now = writing ? b : runner.queue().get(b.id()).orElse(b);
                if (!writing && now.state().ended()) {
                    Map<String, Object> end = new LinkedHashMap<>();
                    end.put("state", now.state().label());
                    end.put("exitCode", now.exitCode().orElse(null));
                    end.put("message", now.message().orElse(null));
                    out.write(("event: end\ndata: " + JSON.writeValueAsString(end) + "\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    return;
                }
                if (System.nanoTime() - idle > KEEP_ALIVE.toNanos()) {
                    out.write(": waiting\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    idle = System.nanoTime();
                }
                if (writing) {
                    logs.await(b.id(), next, Duration.ofSeconds(1));
                } else {
                    Thread.sleep(250); // queued: its log has not begun
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException gone) {
            // the client went away; it resumes with Last-Event-ID
        }
    }

    /** One file a build made: its name below the records folder, and its size. */
    record Artifact(String name, long size) {
    }

    /** The files the build made, by name. */
    List<Artifact> artifacts(ServiceBuild b) throws IOException {
        List<Artifact> files = new ArrayList<>();
        for (Path folder : recordFolders(b)) {
            try (Stream<Path> walk = Files.walk(folder)) {
                for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
                    files.add(new Artifact(records.relativize(f).toString(), Files.size(f)));
                }
            }
        }
        return files;
    }

    /** {@code /artifacts}: the files the build made, by name; {@code /artifacts/<name>}: one of them. */
    void artifacts(HttpExchange exchange, ServiceBuild b, String rest) throws IOException {
        List<Path> folders = recordFolders(b);
        if (rest == null || rest.equals("/")) {
            List<Map<String, Object>> files = new ArrayList<>();
            for (Artifact a : artifacts(b)) {
                files.add(Map.of("name", a.name(), "size", a.size(), "url", PATH + "/" + b.id() + "/artifacts/" + a.name()));
            }
            ApiServer.json(exchange, 200, Map.of("artifacts", files));
            return;
        }
        Path file = records.resolve(rest.substring(1)).normalize(); // getPath() is decoded already: a + stays a +
        if (folders.stream().noneMatch(file::startsWith) || !Files.isRegularFile(file)) {
            ApiServer.json(exchange, 404, Map.of("error", "build #" + b.id() + " made no " + rest.substring(1)));
            return;
        }
        String name = file.getFileName().toString();
        exchange.getResponseHeaders().set("Content-Type", name.endsWith(".rpm") ? "application/x-rpm"
                : name.endsWith(".json") ? "application/json" : "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(200, Files.size(file));
        try (OutputStream out = exchange.getResponseBody()) {
            Files.copy(file, out);
        }
    }

    /** The build record folders of the packages the build built, from its result. */
    List<Path> recordFolders(ServiceBuild b) {
        List<Path> folders = new ArrayList<>();
        b.result().map(JSON::readTree).ifPresent(doc -> doc.path("builds").forEach(built -> {
            if (built.hasNonNull("record")) {
                Path folder = Path.of(built.get("record").asString()).toAbsolutePath().normalize();
                if (folder.startsWith(records) && Files.isDirectory(folder)) {
                    folders.add(folder);
                }
            }
        }));
        return folders;
    }

    private static Optional<String> query(HttpExchange exchange, String name) {
        String q = exchange.getRequestURI().getRawQuery();
        if (q == null) {
            return Optional.empty();
        }
        for (String part : q.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0 && part.substring(0, eq).equals(name)) {
                return Optional.of(URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return Optional.empty();
    }

    private static long number(String s) {
        if (!s.matches("\\d{1,9}")) {
            throw KilnException.badInput("'" + s + "' is not a number");
        }
        return Long.parseLong(s);
    }

    private static void notAllowed(HttpExchange exchange, String allow) throws IOException {
        exchange.getResponseHeaders().set("Allow", allow);
        exchange.sendResponseHeaders(405, -1);
    }
}
