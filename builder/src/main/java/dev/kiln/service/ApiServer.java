package dev.kiln.service;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.kiln.HttpListener;
import dev.kiln.KilnException;
import dev.kiln.rpm.Nevra;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import tools.jackson.databind.json.JsonMapper;

/**
 * The service's HTTP API ({@code /api/v1/}, described by {@code /api/v1/openapi.json}). Every
 * request but the OpenAPI document, the metrics and the Git hosts' push hooks ({@link Webhooks})
 * signs in with {@code Authorization: Bearer <token>}; a missing, unknown, expired or revoked token is 401, a token whose scope does not allow the request 403.
 * A token that expires within {@link ApiToken#EXPIRY_WARNING} gets a {@code Kiln-Token-Warning}
 * header on every response. Bound to loopback unless told otherwise: put a reverse proxy with TLS
 * in front of it for other machines. With the build endpoints it also serves the web page
 * ({@link WebPages}) at every other path, signed in with a session cookie.
 *
 * <p>{@code GET /metrics} ({@link ServiceMetrics}, Prometheus' text format) asks for no token, since a
 * scraper has none. That is safe because it tells counts and durations only: no package names, no
 * token names, no secrets; its labels are outcomes and the names of configured targets. And the
 * service listens on loopback by default; a proxy in front can keep {@code /metrics} to the
 * monitoring network.
 */
public final class ApiServer implements AutoCloseable {

    /** The response header that warns of a token's coming expiry. */
    public static final String TOKEN_WARNING = "Kiln-Token-Warning";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpListener listener;

    private ApiServer(HttpListener listener) {
        this.listener = listener;
    }

    /**
     * Starts serving on {@code bindHost:port} (0: a free port).
     *
     * @param packages what the project's repository lists now, asked at each request
     * @param metrics what {@code GET /metrics} serves, without a token
     * @throws KilnException BAD_INPUT when the address cannot be bound
     */
    public static ApiServer start(String bindHost, int port, TokenStore tokens, Supplier<List<Nevra>> packages, ServiceMetrics metrics,
            Clock clock) {
        return start(bindHost, port, tokens, packages, metrics, clock, Optional.empty(), Optional.empty());
    }

    /**
     * Starts serving, with the build endpoints ({@code /api/v1/builds}) when {@code builds} is
     * given, and the Git hosts' push hooks ({@code /api/v1/hooks/}) when {@code hooks} is: they
     * sign in with their shared secret, not a token.
     *
     * @throws KilnException BAD_INPUT when the address cannot be bound
     */
    public static ApiServer start(String bindHost, int port, TokenStore tokens, Supplier<List<Nevra>> packages, ServiceMetrics metrics,
            Clock clock, Optional<BuildsApi> builds, Optional<Webhooks> hooks) {
        Map<String, HttpHandler> contexts = new LinkedHashMap<>();
        builds.ifPresent(api -> contexts.put(BuildsApi.PATH, exchange -> api.handle(exchange, tokens, clock)));
        hooks.ifPresent(h -> contexts.put(Webhooks.PATH, exchange -> h.handle(exchange, clock)));
        contexts.put("/metrics", exchange -> {
            try (exchange) {
                if (!only(exchange, "GET")) {
                    return;
                }
                byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", metrics.contentType());
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        contexts.put("/api/v1/openapi.json", exchange -> {
            try (exchange; InputStream doc = ApiServer.class.getResourceAsStream("openapi.json")) {
                if (!only(exchange, "GET")) {
                    return;
                }
                byte[] body = doc.readAllBytes();
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        contexts.put("/api/v1/whoami", exchange -> signedIn(exchange, tokens, clock, Scope.BUILD, token -> {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("name", token.name());
            doc.put("scope", token.scope().label());
            doc.put("expires", token.expires().map(Object::toString).orElse(null));
            return doc;
        }));
        contexts.put("/api/v1/packages", exchange -> signedIn(exchange, tokens, clock, Scope.BUILD, token -> Map.of("packages",
                packages.get().stream().map(n -> Map.of("nevra", n.toString(), "name", n.name(), "version", n.version(),
                        "release", n.release(), "arch", n.arch())).toList())));
        // the web page answers every other path (a context matches by prefix)
        builds.ifPresent(api -> contexts.put("/", new WebPages(api, tokens, packages, clock)));
        return new ApiServer(HttpListener.start(bindHost, port, "/", contexts));
    }

    /** The base URL, ending in {@code /}. */
    public URI uri() {
        return listener.uri();
    }

    @Override
    public void close() {
        listener.close();
    }

    /** What a signed-in request answers: a JSON document. */
    private interface Answer {
        Object answer(ApiToken token) throws IOException;
    }

    private static void signedIn(HttpExchange exchange, TokenStore tokens, Clock clock, Scope needed, Answer answer) throws IOException {
        try {
            if (!only(exchange, "GET")) {
                return;
            }
            Optional<ApiToken> token = signIn(exchange, tokens, clock, needed);
            if (token.isEmpty()) {
                return;
            }
            json(exchange, 200, answer.answer(token.get()));
        } catch (RuntimeException e) {
            // a bug or a database that went away: the client gets a 500, the service goes on
            json(exchange, 500, Map.of("error", "the service failed: " + e.getClass().getSimpleName()));
        } finally {
            exchange.close();
        }
    }

    /**
     * The token the request signs in with, when it is valid and its scope allows {@code needed};
     * else empty, the 401 or 403 already sent. Warns of a coming expiry in a header.
     */
    static Optional<ApiToken> signIn(HttpExchange exchange, TokenStore tokens, Clock clock, Scope needed) throws IOException {
        Optional<ApiToken> token = bearer(exchange).flatMap(tokens::authenticate);
        if (token.isEmpty()) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"kiln\"");
            json(exchange, 401, Map.of("error", "sign in with a valid token: Authorization: Bearer <token> (KILN_TOKEN);"
                    + " an expired or revoked one is refused"));
            return Optional.empty();
        }
        if (token.get().expiresSoon(clock.instant())) {
            exchange.getResponseHeaders().set(TOKEN_WARNING, "token " + token.get().name() + " expires "
                    + token.get().expires().orElseThrow() + ": ask for a new one");
        }
        if (!token.get().scope().allows(needed)) {
            forbidden(exchange, token.get(), needed);
            return Optional.empty();
        }
        return token;
    }

    static void forbidden(HttpExchange exchange, ApiToken token, Scope needed) throws IOException {
        json(exchange, 403, Map.of("error", "token " + token.name() + " has scope " + token.scope().label() + "; this needs "
                + needed.label()));
    }

    private static Optional<String> bearer(HttpExchange exchange) {
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        return Optional.of(header.substring(7).strip());
    }

    private static boolean only(HttpExchange exchange, String method) throws IOException {
        if (!exchange.getRequestURI().getPath().equals(exchange.getHttpContext().getPath())) {
            exchange.sendResponseHeaders(404, -1); // a context matches by prefix; only its own path is served
            return false;
        }
        if (exchange.getRequestMethod().equals(method)) {
            return true;
        }
        exchange.getResponseHeaders().set("Allow", method);
        exchange.sendResponseHeaders(405, -1);
        return false;
    }

    /**
     * Answers a request whose work failed: a {@link KilnException} with its message, 400 for bad
     * input and 503 for the environment (an engine or repository that does not answer); anything
     * else is a bug, logged with its stack trace and answered 500 without details.
     */
    static void failed(HttpExchange exchange, RuntimeException e, org.slf4j.Logger log) throws IOException {
        if (e instanceof KilnException k) {
            json(exchange, k.exitCode() == KilnException.BAD_INPUT ? 400 : 503, Map.of("error", k.getMessage()));
            return;
        }
        log.error("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), e);
        json(exchange, 500, Map.of("error", "the service failed: " + e.getClass().getSimpleName()));
    }

    static void json(HttpExchange exchange, int status, Object document) throws IOException {
        byte[] body = JSON.writeValueAsBytes(document);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
