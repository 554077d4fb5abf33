package dev.kiln.service;

import com.sun.net.httpserver.HttpExchange;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web page's sessions: a random id in an {@code HttpOnly}, {@code SameSite=Strict} cookie
 * ({@code Secure} behind https), mapped in memory to the name, scope and creation time of the token
 * the person signed in with, and a CSRF token for the page's forms. A session ends at the earlier
 * of the token's expiry and {@link #LIFETIME}; it holds neither the token's secret nor its hash.
 *
 * <p>Every request re-checks the token by name ({@link TokenStore#valid}), so revoking it ends its
 * sessions at once. The name is enough because a token's name is never reused while its row exists
 * (a revoked token keeps its name), and the creation time it was signed in with must match too.
 * Keeping the secret in memory to re-run {@link TokenStore#authenticate} would put every signed-in
 * secret in a heap dump for no gain. Sessions are lost when the service restarts: sign in again.
 */
final class WebSessions {

    /** The longest a session lasts, however long its token lives. */
    static final Duration LIFETIME = Duration.ofHours(12);
    static final String COOKIE = "kiln_session";
    /** The sign-in form's CSRF cookie, before there is a session to hold its token. */
    static final String LOGIN_COOKIE = "kiln_login";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One signed-in browser. */
    record Session(String id, String token, Scope scope, Instant tokenCreated, Instant expires, String csrf) {
        @Override
        public String toString() {
            return "Session[" + token + "]"; // never the id or the CSRF token
        }
    }

    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final TokenStore tokens;
    private final Clock clock;

    WebSessions(TokenStore tokens, Clock clock) {
        this.tokens = tokens;
        this.clock = clock;
    }

    /** A new session for a token that signed in just now. */
    Session open(ApiToken token) {
        Instant now = clock.instant();
        sessions.values().removeIf(s -> !now.isBefore(s.expires())); // forget the ones that ran out
        Instant expires = now.plus(LIFETIME);
        if (token.expires().isPresent() && token.expires().get().isBefore(expires)) {
            expires = token.expires().get();
        }
        Session s = new Session(random(), token.name(), token.scope(), token.created(), expires, random());
        sessions.put(s.id(), s);
        return s;
    }

    /** The request's session, if it has one that has not run out and whose token still signs in. */
    Optional<Session> find(HttpExchange exchange) {
        Optional<Session> found = cookie(exchange, COOKIE).map(sessions::get);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        return found.filter(this::valid);
    }

    /** Whether {@code s} still holds: not signed out, not run out, its token still signs in (a stream asks this as it runs). */
    boolean valid(Session s) {
        boolean valid = sessions.containsKey(s.id()) && clock.instant().isBefore(s.expires()) && tokens.valid(s.token())
                .filter(t -> t.created().equals(s.tokenCreated())).isPresent();
        if (!valid) {
            sessions.remove(s.id());
        }
        return valid;
    }

    void close(Session s) {
        sessions.remove(s.id());
    }

    /** The {@code Set-Cookie} value that gives the browser this session. */
    static String cookieFor(HttpExchange exchange, Session s, Instant now) {
        long seconds = Math.max(1, Duration.between(now, s.expires()).toSeconds());
        return cookie(exchange, COOKIE, s.id(), "/", seconds);
    }

    /** A cookie value with the flags every cookie of the page has; {@code maxAge} 0 removes it. */
    static String cookie(HttpExchange exchange, String name, String value, String path, long maxAge) {
        return name + "=" + value + "; Path=" + path + "; Max-Age=" + maxAge + "; HttpOnly; SameSite=Strict"
                + (https(exchange) ? "; Secure" : "");
    }

    /** Whether the browser reached the service over https (through a proxy that says so). */
    static boolean https(HttpExchange exchange) {
        return "https".equalsIgnoreCase(first(exchange.getRequestHeaders().getFirst("X-Forwarded-Proto")));
    }

    /**
     * Whether a POST may have come from another site: an {@code Origin} header that is present and
     * is not this server's (as the browser addressed it: the proxy's {@code X-Forwarded-Host} and
     * {@code X-Forwarded-Proto}, else {@code Host} over http). Another site's form cannot set those
     * headers, and browsers send {@code Origin} on every cross-site POST.
     */
    static boolean foreignOrigin(HttpExchange exchange) {
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        if (origin == null) {
            return false;
        }
        String host = first(exchange.getRequestHeaders().getFirst("X-Forwarded-Host"));
        if (host == null) {
            host = exchange.getRequestHeaders().getFirst("Host");
        }
        return host == null || !origin.equalsIgnoreCase((https(exchange) ? "https://" : "http://") + host);
    }

    /** Compares two secrets in time that does not depend on where they differ. */
    static boolean same(String expected, String given) {
        return given != null && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static Optional<String> cookie(HttpExchange exchange, String name) {
        for (String header : exchange.getRequestHeaders().getOrDefault("Cookie", java.util.List.of())) {
            for (String part : header.split(";")) {
                int eq = part.indexOf('=');
                if (eq > 0 && part.substring(0, eq).strip().equals(name)) {
                    return Optional.of(part.substring(eq + 1).strip());
                }
            }
        }
        return Optional.empty();
    }

    /** The first of a comma-separated header's values (a chain of proxies appends theirs). */
    private static String first(String header) {
        return header == null ? null : header.split(",")[0].strip();
    }
}
