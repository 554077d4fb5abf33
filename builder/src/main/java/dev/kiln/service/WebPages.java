package dev.kiln.service;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.kiln.KilnException;
import dev.kiln.rpm.Nevra;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The service's web page, rendered on the server: sign in with a token ({@code /login}), the builds
 * ({@code /}), one build with its stage timeline, live log, guard report, artifacts and a cancel
 * button ({@code /builds/{id}}), the published packages ({@code /packages}) and a submit form
 * ({@code /submit}). Every value is HTML-escaped; the only script is the build page's few lines
 * that follow the log with {@code EventSource}, allowed by a per-response CSP nonce.
 *
 * <p>Each POST must carry the session's CSRF token in a hidden field, and is refused (403) when its
 * {@code Origin} header names another site. The live log and the artifacts are {@link BuildsApi}'s
 * own handlers, reached here with the session cookie instead of a Bearer header.
 */
final class WebPages implements HttpHandler {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WebPages.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern BUILD = Pattern.compile("/builds/(\\d{1,18})(/cancel|/log|/artifacts/(.+))?");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter CLOCK_TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
    /** How many builds the list shows. */
    private static final int LISTED = 100;

    private final BuildsApi builds;
    private final TokenStore tokens;
    private final Supplier<List<Nevra>> packages;
    private final Clock clock;
    private final WebSessions sessions;

    WebPages(BuildsApi builds, TokenStore tokens, Supplier<List<Nevra>> packages, Clock clock) {
        this.builds = builds;
        this.tokens = tokens;
        this.packages = packages;
        this.clock = clock;
        this.sessions = new WebSessions(tokens, clock);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (path.startsWith("/api/")) {
                ApiServer.json(exchange, 404, Map.of("error", "no such resource: " + path));
                return;
            }
            if (!method.equals("GET") && !method.equals("POST")) {
                exchange.getResponseHeaders().set("Allow", "GET, POST");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            boolean post = method.equals("POST");
            if (post && WebSessions.foreignOrigin(exchange)) {
                error(exchange, 403, Optional.empty(), "Refused: this form was sent from another site.");
                return;
            }
            if (path.equals("/login")) {
                login(exchange, post);
                return;
            }
            Optional<WebSessions.Session> session = sessions.find(exchange);
            if (session.isEmpty()) {
                redirect(exchange, "/login");
                return;
            }
            WebSessions.Session s = session.get();
            Map<String, String> form = Map.of();
            if (post) {
                form = form(exchange);
                if (!WebSessions.same(s.csrf(), form.get("csrf"))) {
                    error(exchange, 403, session, "Refused: the form's security token is missing or stale. Reload the page and try again.");
                    return;
                }
            }
            route(exchange, s, path, post, form);
        } catch (KilnException e) {
            LOG.debug("web request refused: {}", e.getMessage());
            error(exchange, e.exitCode() == KilnException.BAD_INPUT ? 400 : 503, Optional.empty(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), e);
            error(exchange, 500, Optional.empty(), "The service failed: " + e.getClass().getSimpleName());
        } finally {
            exchange.close();
        }
    }

    private void route(HttpExchange exchange, WebSessions.Session s, String path, boolean post, Map<String, String> form)
            throws IOException {
        switch (path) {
            case "/" -> {
                if (!post) {
                    list(exchange, s);
                    return;
                }
            }
            case "/packages" -> {
                if (!post) {
                    packages(exchange, s);
                    return;
                }
            }
            case "/submit" -> {
                if (post) {
                    submit(exchange, s, form);
                } else {
                    submitForm(exchange, s, 200, "", Map.of());
                }
                return;
            }
            case "/logout" -> {
                if (post) {
                    sessions.close(s);
                    exchange.getResponseHeaders().add("Set-Cookie", WebSessions.cookie(exchange, WebSessions.COOKIE, "", "/", 0));
                    redirect(exchange, "/login");
                    return;
                }
            }
            default -> {
                Matcher m = BUILD.matcher(path);
                if (m.matches()) {
                    build(exchange, s, Long.parseLong(m.group(1)), m.group(2) == null ? "" : m.group(2), m.group(3), post);
                    return;
                }
                error(exchange, 404, Optional.of(s), "There is no page " + path + ".");
                return;
            }
        }
        exchange.getResponseHeaders().set("Allow", post ? "GET" : "POST");
        exchange.sendResponseHeaders(405, -1);
    }

    private void login(HttpExchange exchange, boolean post) throws IOException {
        if (!post) {
            // the sign-in form has no session yet: its CSRF token is a cookie the form must repeat
            String csrf = WebSessions.random();
            exchange.getResponseHeaders().add("Set-Cookie", WebSessions.cookie(exchange, WebSessions.LOGIN_COOKIE, csrf, "/login", 3600));
            loginPage(exchange, 200, csrf, "");
            return;
        }
        Map<String, String> form = form(exchange);
        Optional<String> expected = WebSessions.cookie(exchange, WebSessions.LOGIN_COOKIE);
        if (expected.isEmpty() || !WebSessions.same(expected.get(), form.get("csrf"))) {
            error(exchange, 403, Optional.empty(), "Refused: the sign-in form's security token is missing or stale. Open the sign-in page again.");
            return;
        }
        Optional<ApiToken> token = tokens.authenticate(form.getOrDefault("token", "").strip());
        if (token.isEmpty()) {
            loginPage(exchange, 401, expected.get(), "That token is unknown, expired or revoked: paste a valid one (kiln_...).");
            return;
        }
        WebSessions.Session s = sessions.open(token.get());
        exchange.getResponseHeaders().add("Set-Cookie", WebSessions.cookieFor(exchange, s, clock.instant()));
        exchange.getResponseHeaders().add("Set-Cookie", WebSessions.cookie(exchange, WebSessions.LOGIN_COOKIE, "", "/login", 0));
        redirect(exchange, "/");
    }

    private void loginPage(HttpExchange exchange, int status, String csrf, String problem) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("<h1>Sign in</h1>");
        if (!problem.isEmpty()) {
            b.append("<p class=\"error\" id=\"error\">").append(esc(problem)).append("</p>");
        }
        b.append("<form method=\"post\" action=\"/login\">").append(hidden(csrf))
                .append("<p><label>API token <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" size=\"50\""
                        + " placeholder=\"kiln_...\" required></label></p>")
                .append("<p><button type=\"submit\" id=\"sign-in\">Sign in</button></p></form>")
                .append("<p>A token is made on the service's machine: <code>./kiln token create NAME --scope build</code>.</p>");
        page(exchange, status, Optional.empty(), "Sign in", b, "");
    }

    private void list(HttpExchange exchange, WebSessions.Session s) throws IOException {
        Instant now = clock.instant();
        List<ServiceBuild> all = builds.runner().queue().list(LISTED);
        StringBuilder b = new StringBuilder("<h1>Builds</h1>");
        if (all.isEmpty()) {
            b.append("<p>No builds yet: <a href=\"/submit\">submit one</a>.</p>");
        } else {
            table(b, "builds", "#", "state", "packages", "mode", "submitter", "submitted", "wait", "duration");
            for (ServiceBuild sb : all) {
                b.append("<tr id=\"build-").append(sb.id()).append("\"><td><a href=\"/builds/").append(sb.id()).append("\">")
                        .append(sb.id()).append("</a></td><td class=\"state ").append(sb.state().label()).append("\">")
                        .append(sb.state().label()).append("</td><td>").append(esc(what(sb))).append("</td><td>")
                        .append(sb.mode().label()).append("</td><td>").append(esc(sb.submitter())).append("</td><td>")
                        .append(TIME.format(sb.submitted())).append("</td><td>").append(human(sb.waited(now))).append("</td><td>")
                        .append(sb.started().map(st -> human(Duration.between(st, sb.finished().orElse(now)))).orElse(""))
                        .append("</td></tr>");
            }
            b.append("</tbody></table>");
        }
        // a list with builds that are not over refreshes itself until they are
        boolean live = all.stream().anyMatch(sb -> !sb.state().ended());
        page(exchange, 200, Optional.of(s), "Builds", b, live ? "<meta http-equiv=\"refresh\" content=\"5\">" : "");
    }

    private void build(HttpExchange exchange, WebSessions.Session s, long id, String action, String artifact, boolean post)
            throws IOException {
        if (post != action.equals("/cancel")) {
            exchange.getResponseHeaders().set("Allow", post ? "GET" : "POST");
            exchange.sendResponseHeaders(405, -1);
            return;
        }
        Optional<ServiceBuild> found = builds.runner().queue().get(id);
        if (found.isEmpty()) {
            error(exchange, 404, Optional.of(s), "There is no build #" + id + ".");
            return;
        }
        ServiceBuild b = found.get();
        switch (action) {
            case "/log" -> builds.log(exchange, b, () -> sessions.valid(s));
            case "/cancel" -> {
                if (!BuildsApi.mayCancel(s.token(), s.scope(), b)) {
                    error(exchange, 403, Optional.of(s), "Build #" + id + " is " + b.submitter() + "'s: cancelling it needs a token of scope admin.");
                    return;
                }
                builds.runner().cancel(id, s.token()); // a build that ended meanwhile stays as it ended
                redirect(exchange, "/builds/" + id);
            }
            case "" -> buildPage(exchange, s, b);
            default -> builds.artifacts(exchange, b, "/" + artifact);
        }
    }

    private void buildPage(HttpExchange exchange, WebSessions.Session s, ServiceBuild b) throws IOException {
        Instant now = clock.instant();
        String nonce = WebSessions.random();
        StringBuilder h = new StringBuilder();
        h.append("<h1>Build #").append(b.id()).append(" <span id=\"state\" class=\"state ").append(b.state().label()).append("\">")
                .append(b.state().label()).append("</span></h1>");
        h.append("<dl>");
        item(h, "packages", what(b));
        item(h, "ref", b.ref());
        h.append("<dt>commit</dt><dd><code id=\"commit\">").append(esc(b.commit())).append("</code></dd>");
        item(h, "mode", b.mode().label() + (b.acceptChanges() ? ", guard's changes accepted" : ""));
        item(h, "submitter", b.submitter());
        item(h, "submitted", TIME.format(b.submitted()));
        b.started().ifPresent(t -> item(h, "started", TIME.format(t) + " (waited " + human(b.waited(now)) + ")"));
        b.finished().ifPresent(t -> item(h, "finished", TIME.format(t)
                + b.started().map(st -> " (took " + human(Duration.between(st, t)) + ")").orElse("")));
        b.exitCode().ifPresent(c -> item(h, "exit code", Integer.toString(c)));
        if (b.attempt() > 1) {
            item(h, "attempt", Integer.toString(b.attempt()));
        }
        b.message().ifPresent(m -> h.append("<dt>message</dt><dd id=\"message\">").append(esc(m)).append("</dd>"));
        h.append("</dl>");
        if (!b.state().ended() && BuildsApi.mayCancel(s.token(), s.scope(), b)) {
            h.append("<form method=\"post\" action=\"/builds/").append(b.id()).append("/cancel\">").append(hidden(s.csrf()))
                    .append("<button type=\"submit\" id=\"cancel\">Cancel build</button></form>");
        }

        List<BuildLogs.Event> events = builds.runner().logs().read(b.id(), 0);
        // each stage lasts until the next one begins (the last until the build ended)
        List<BuildLogs.Event> stages = events.stream().filter(e -> e.kind().equals("stage")).toList();
        h.append("<h2>Stages</h2>");
        table(h, "stages", "time", "since start", "took", "stage");
        Optional<Instant> first = stages.isEmpty() ? Optional.empty() : stages.getFirst().at();
        for (int i = 0; i < stages.size(); i++) {
            BuildLogs.Event e = stages.get(i);
            Optional<Instant> end = i + 1 < stages.size() ? stages.get(i + 1).at() : b.finished();
            h.append("<tr><td>").append(e.at().map(CLOCK_TIME::format).orElse("")).append("</td><td>")
                    .append(e.at().flatMap(t -> first.map(f -> human(Duration.between(f, t)))).orElse("")).append("</td><td>")
                    .append(e.at().flatMap(t -> end.map(x -> human(Duration.between(t, x)))).orElse("")).append("</td><td>")
                    .append(esc(e.text())).append("</td></tr>");
        }
        h.append("</tbody></table>");

        guardReports(h, b);
        List<BuildsApi.Artifact> artifacts = builds.artifacts(b);
        if (!artifacts.isEmpty()) {
            h.append("<h2>Artifacts</h2><ul id=\"artifacts\">");
            for (BuildsApi.Artifact a : artifacts) {
                h.append("<li><a href=\"/builds/").append(b.id()).append("/artifacts/").append(esc(path(a.name()))).append("\">")
                        .append(esc(a.name())).append("</a> (").append(a.size()).append(" bytes)</li>");
            }
            h.append("</ul>");
        }

        h.append("<h2>Log</h2><pre id=\"log\">");
        for (BuildLogs.Event e : events) {
            h.append("<span class=\"").append(e.kind().equals("stage") || e.kind().equals("notice") ? e.kind() : "line").append("\">")
                    .append(esc(e.text())).append("</span>\n");
        }
        h.append("</pre>");
        boolean following = !b.state().ended() || builds.runner().logs().writing(b.id());
        if (following) {
            // the log's next events as they are written; at its end the page reloads to show the outcome
            h.append("<script nonce=\"").append(nonce).append("\">\n")
                    .append("const log = document.getElementById('log');\n")
                    .append("const stages = document.querySelector('#stages tbody');\n")
                    .append("const state = document.getElementById('state');\n")
                    .append("const events = new EventSource('/builds/").append(b.id()).append("/log?from=").append(events.size()).append("');\n")
                    .append("for (const kind of ['stage', 'notice', 'log']) {\n")
                    .append("  events.addEventListener(kind, e => {\n")
                    .append("    if (state.textContent === 'queued') { state.textContent = 'running'; state.className = 'state running'; }\n")
                    .append("    const line = document.createElement('span');\n")
                    .append("    line.className = kind === 'log' ? 'line' : kind;\n")
                    .append("    line.textContent = e.data;\n")
                    .append("    log.append(line, '\\n');\n")
                    .append("    if (kind === 'stage') {\n")
                    .append("      const row = stages.insertRow();\n")
                    .append("      row.insertCell().textContent = new Date().toISOString().substring(11, 19);\n")
                    .append("      row.insertCell();\n")
                    .append("      row.insertCell();\n")
                    .append("      row.insertCell().textContent = e.data;\n")
                    .append("    }\n")
                    .append("  });\n")
                    .append("}\n")
                    .append("events.addEventListener('end', () => { events.close(); location.reload(); });\n")
                    .append("</script>");
        }
        String csp = following ? "script-src 'nonce-" + nonce + "'; connect-src 'self'; " : "";
        page(exchange, 200, Optional.of(s), "Build #" + b.id(), h, "", csp);
    }

    /** The release guard's report of each package the build compared with the published release. */
    private void guardReports(StringBuilder h, ServiceBuild b) {
        boolean heading = false;
        for (Path folder : builds.recordFolders(b)) {
            Path record = folder.resolve("record.json");
            if (!Files.isRegularFile(record)) {
                continue;
            }
            JsonNode guard = JSON.readTree(record.toFile()).path("guard");
            if (guard.isMissingNode() || guard.isNull()) {
                continue;
            }
            if (!heading) {
                h.append("<h2>Release guard</h2>");
                heading = true;
            }
            h.append("<section class=\"guard\"><p><strong>").append(esc(folder.getFileName().toString())).append("</strong>: ")
                    .append(esc(guard.path("headline").asString(""))).append(guard.path("blocked").asBoolean(false)
                            ? guard.path("accepted").asBoolean(false) ? " (blocking; accepted)" : " (blocking)" : "")
                    .append("</p><pre>").append(esc(guard.path("report").asString(""))).append("</pre></section>");
        }
    }

    private void packages(HttpExchange exchange, WebSessions.Session s) throws IOException {
        List<Nevra> published = packages.get();
        StringBuilder b = new StringBuilder("<h1>Published packages</h1>");
        if (published.isEmpty()) {
            b.append("<p>The repository publishes nothing yet.</p>");
        } else {
            table(b, "packages", "package", "name", "version", "release", "arch");
            for (Nevra n : published) {
                b.append("<tr><td>").append(esc(n.toString())).append("</td><td>").append(esc(n.name())).append("</td><td>")
                        .append(esc(n.version())).append("</td><td>").append(esc(n.release())).append("</td><td>").append(esc(n.arch()))
                        .append("</td></tr>");
            }
            b.append("</tbody></table>");
        }
        page(exchange, 200, Optional.of(s), "Packages", b, "");
    }

    private void submitForm(HttpExchange exchange, WebSessions.Session s, int status, String problem, Map<String, String> given)
            throws IOException {
        boolean publish = "publish".equals(given.get("mode"));
        StringBuilder b = new StringBuilder("<h1>Submit a build</h1>");
        if (!problem.isEmpty()) {
            b.append("<p class=\"error\" id=\"error\">").append(esc(problem)).append("</p>");
        }
        b.append("<form method=\"post\" action=\"/submit\">").append(hidden(s.csrf()))
                .append("<p><label>Packages <input name=\"packages\" id=\"packages\" size=\"50\" required value=\"")
                .append(esc(given.getOrDefault("packages", ""))).append("\" placeholder=\"hello tree\"></label></p>")
                .append("<p><label>Ref <input name=\"ref\" id=\"ref\" value=\"").append(esc(given.getOrDefault("ref", "main")))
                .append("\"></label> (a branch, tag or commit the service has)</p>")
                .append("<p><label><input type=\"radio\" name=\"mode\" value=\"scratch\" id=\"scratch\"").append(publish ? "" : " checked")
                .append("> scratch (signed, kept with the build, not published)</label><br>")
                .append("<label><input type=\"radio\" name=\"mode\" value=\"publish\" id=\"publish\"").append(publish ? " checked" : "")
                .append("> publish (needs a token of scope publish)</label></p>")
                .append("<p><button type=\"submit\" id=\"submit\">Submit</button></p></form>");
        page(exchange, status, Optional.of(s), "Submit", b, "");
    }

    private void submit(HttpExchange exchange, WebSessions.Session s, Map<String, String> form) throws IOException {
        List<String> names = Arrays.stream(form.getOrDefault("packages", "").split("[\\s,]+")).filter(p -> !p.isEmpty()).toList();
        ServiceBuild.Mode mode = "publish".equals(form.get("mode")) ? ServiceBuild.Mode.PUBLISH : ServiceBuild.Mode.SCRATCH;
        if (names.isEmpty()) {
            submitForm(exchange, s, 400, "Name at least one package.", form);
            return;
        }
        if (!s.scope().allows(mode.needs())) {
            submitForm(exchange, s, 403, "You signed in with token " + s.token() + " of scope " + s.scope().label()
                    + ": a publish build needs a token of scope publish. Submit it as scratch, or sign in with a publish token.", form);
            return;
        }
        String ref = form.getOrDefault("ref", "").strip();
        ServiceBuild b;
        try {
            b = builds.runner().submit(names, Optional.empty(), ref.isEmpty() ? "main" : ref, mode, false, s.token());
        } catch (KilnException e) {
            submitForm(exchange, s, e.exitCode() == KilnException.BAD_INPUT ? 400 : 503, e.getMessage(), form);
            return;
        }
        redirect(exchange, "/builds/" + b.id());
    }

    private void error(HttpExchange exchange, int status, Optional<WebSessions.Session> s, String message) throws IOException {
        page(exchange, status, s, "Error", new StringBuilder("<h1>").append(status).append("</h1><p class=\"error\" id=\"error\">")
                .append(esc(message)).append("</p>"), "");
    }

    private static void page(HttpExchange exchange, int status, Optional<WebSessions.Session> s, String title, CharSequence body,
            String head) throws IOException {
        page(exchange, status, s, title, body, head, "");
    }

    private static void page(HttpExchange exchange, int status, Optional<WebSessions.Session> s, String title, CharSequence body,
            String head, String scripts) throws IOException {
        StringBuilder h = new StringBuilder(4096 + body.length());
        h.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title)).append(" - Kiln</title>")
                .append("<meta name=\"viewport\" content=\"width=device-width\">").append(head).append(STYLE).append("</head><body><nav>")
                .append("<strong>Kiln</strong>");
        if (s.isPresent()) {
            h.append(" <a href=\"/\">Builds</a> <a href=\"/submit\">Submit</a> <a href=\"/packages\">Packages</a>")
                    .append("<form method=\"post\" action=\"/logout\" class=\"who\">").append(hidden(s.get().csrf()))
                    .append("<span id=\"who\">").append(esc(s.get().token())).append(" (").append(s.get().scope().label())
                    .append(")</span> <button type=\"submit\" id=\"sign-out\">Sign out</button></form>");
        }
        h.append("</nav><main>").append(body).append("</main></body></html>");
        byte[] bytes = h.toString().getBytes(StandardCharsets.UTF_8);
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Type", "text/html; charset=utf-8");
        headers.set("Cache-Control", "no-store");
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("Referrer-Policy", "same-origin");
        headers.set("Content-Security-Policy", "default-src 'none'; " + scripts + "style-src 'unsafe-inline'; form-action 'self';"
                + " frame-ancestors 'none'; base-uri 'none'");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static final String STYLE = "<style>body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#222}"
            + "nav{background:#333;color:#eee;padding:.5em 1em}nav a{color:#fff;margin-left:1em}main{padding:1em}"
            + "nav form.who{float:right;margin:0}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.2em .6em;"
            + "text-align:left}pre{background:#f6f6f6;padding:.5em;overflow-x:auto;max-height:40em}pre .stage{font-weight:bold;"
            + "color:#036}pre .notice{color:#850}.error{color:#b00;font-weight:bold}.state.succeeded{color:#070}.state.failed{color:#b00}"
            + ".state.cancelled{color:#777}.state.running{color:#036}dt{font-weight:bold;float:left;clear:left;width:8em}dd{margin-left:9em}"
            + "</style>";

    private static void redirect(HttpExchange exchange, String to) throws IOException {
        exchange.getResponseHeaders().set("Location", to);
        exchange.sendResponseHeaders(303, -1);
    }

    private static void item(StringBuilder h, String name, String value) {
        h.append("<dt>").append(esc(name)).append("</dt><dd>").append(esc(value)).append("</dd>");
    }

    /** Opens a table with its head; the caller adds the rows and closes it. */
    private static void table(StringBuilder h, String id, String... headers) {
        h.append("<table id=\"").append(id).append("\"><thead><tr>");
        for (String header : headers) {
            h.append("<th>").append(esc(header)).append("</th>");
        }
        h.append("</tr></thead><tbody>");
    }

    private static String hidden(String csrf) {
        return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(csrf) + "\">";
    }

    private static String what(ServiceBuild b) {
        return b.packages().isEmpty() ? "changed since " + b.changedSince().orElse("?") : String.join(" ", b.packages());
    }

    /** The form's fields (application/x-www-form-urlencoded, at most 64 KiB). */
    private static Map<String, String> form(HttpExchange exchange) throws IOException {
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
        }
        Map<String, String> fields = new HashMap<>();
        for (String part : body.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                fields.putIfAbsent(URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return fields;
    }

    /** An artifact's name as a URL path: each segment encoded. */
    private static String path(String name) {
        List<String> segments = new ArrayList<>();
        for (String segment : name.split("/")) {
            segments.add(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return String.join("/", segments);
    }

    static String human(Duration d) {
        long seconds = Math.max(0, d.toSeconds());
        if (seconds < 60) {
            return String.format(java.util.Locale.ROOT, "%.1fs", Math.max(0, d.toMillis()) / 1000.0);
        }
        if (seconds < 3600) {
            return seconds / 60 + "m " + String.format("%02ds", seconds % 60);
        }
        return seconds / 3600 + "h " + String.format("%02dm", seconds / 60 % 60);
    }

    /** Text as HTML, safe in element content and in quoted attribute values. */
    static String esc(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
