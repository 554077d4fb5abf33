package dev.kiln.service;

import dev.kiln.KilnException;
import dev.kiln.Sha256;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The service's API tokens. A token's secret is 32 random bytes, shown once when it is made and
 * stored only as its SHA-256 (enough for a secret of that strength: nothing to guess from the hash),
 * so neither the database nor a backup of it can sign anyone in. Making and revoking a token are
 * written to the audit log.
 *
 * <pre>{@code
 * TokenStore tokens = new TokenStore(ServiceDatabase.embedded(state.resolve("service")), Clock.systemUTC());
 * TokenStore.Created made = tokens.create("ci", Scope.PUBLISH, Optional.of(Duration.ofDays(30)), "admin@host");
 * Optional<ApiToken> who = tokens.authenticate(made.secret());
 * }</pre>
 */
public final class TokenStore {

    /** What every secret starts with, so a leaked one is recognisable (secret scanners match on it). */
    public static final String PREFIX = "kiln_";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ServiceDatabase database;
    private final Clock clock;

    public TokenStore(ServiceDatabase database, Clock clock) {
        this.database = database;
        this.clock = clock;
    }

    /** A token just made, with its secret: the only time the secret is known. */
    public record Created(ApiToken token, String secret) {
        @Override
        public String toString() {
            return "Created[" + token + "]"; // never the secret
        }
    }

    /**
     * Makes a token.
     *
     * @param lifetime how long it works; empty for a token that never expires
     * @param actor who made it, for the audit log
     * @throws KilnException BAD_INPUT for a bad or taken name, or a lifetime that is not positive
     */
    public Created create(String name, Scope scope, Optional<Duration> lifetime, String actor) {
        if (!NAME.matcher(name).matches()) {
            throw KilnException.badInput("token name '" + name + "' is not a name: use letters, digits, '.', '_', '@' or '-' (up to 64)");
        }
        if (lifetime.isPresent() && (lifetime.get().isZero() || lifetime.get().isNegative())) {
            throw KilnException.badInput("--expires " + lifetime.get() + " is not a lifetime: give a positive one like 30d");
        }
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        String secret = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Instant now = clock.instant();
        ApiToken token = new ApiToken(name, scope, now, lifetime.map(now::plus), Optional.empty());
        try (Connection c = database.connect()) {
            c.setAutoCommit(false);
            if (find(c, name).isPresent()) {
                throw KilnException.badInput("a token named " + name + " exists already: choose another name, or revoke it with"
                        + " ./kiln token revoke " + name + " and make it again");
            }
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO api_token (name, scope, secret_sha256, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL)")) {
                insert.setString(1, name);
                insert.setString(2, scope.label());
                insert.setString(3, Sha256.hex(secret));
                insert.setLong(4, now.toEpochMilli());
                setInstant(insert, 5, token.expires());
                insert.executeUpdate();
            }
            Audit.append(c, now, actor, "token-create", name + " scope=" + scope.label()
                    + token.expires().map(e -> " expires=" + e).orElse(""));
            c.commit();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot store token " + name, e);
        }
        return new Created(token, secret);
    }

    /**
     * Revokes {@code name}: it signs nobody in from now on. Revoking a revoked token changes nothing.
     *
     * @throws KilnException BAD_INPUT when there is no such token
     */
    public ApiToken revoke(String name, String actor) {
        Instant now = clock.instant();
        try (Connection c = database.connect()) {
            c.setAutoCommit(false);
            ApiToken token = find(c, name).orElseThrow(() -> KilnException.badInput("there is no token named " + name
                    + ": ./kiln token list shows them"));
            if (token.revoked().isPresent()) {
                return token;
            }
            try (PreparedStatement update = c.prepareStatement("UPDATE api_token SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")) {
                update.setLong(1, now.toEpochMilli());
                update.setString(2, name);
                update.executeUpdate();
            }
            Audit.append(c, now, actor, "token-revoke", name);
            c.commit();
            return new ApiToken(token.name(), token.scope(), token.created(), token.expires(), Optional.of(now));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot revoke token " + name, e);
        }
    }

    /** Every token, by name, revoked and expired ones too. */
    public List<ApiToken> list() {
        try (Connection c = database.connect();
                PreparedStatement q = c.prepareStatement("SELECT name, scope, created_at, expires_at, revoked_at FROM api_token ORDER BY name");
                ResultSet rs = q.executeQuery()) {
            List<ApiToken> out = new ArrayList<>();
            while (rs.next()) {
                out.add(token(rs));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot list tokens", e);
        }
    }

    /** The token whose secret this is, if it signs in now (known, not revoked, not expired). */
    public Optional<ApiToken> authenticate(String secret) {
        if (secret == null || !secret.startsWith(PREFIX)) {
            return Optional.empty();
        }
        try (Connection c = database.connect();
                PreparedStatement q = c.prepareStatement(
                        "SELECT name, scope, created_at, expires_at, revoked_at FROM api_token WHERE secret_sha256 = ?")) {
            q.setString(1, Sha256.hex(secret.strip()));
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                ApiToken token = token(rs);
                return token.validAt(clock.instant()) ? Optional.of(token) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot check a token", e);
        }
    }

    /**
     * The token named {@code name}, if it signs in now (not revoked, not expired): a web session,
     * which keeps the token's name and never its secret, checks it on every request with this.
     */
    public Optional<ApiToken> valid(String name) {
        try (Connection c = database.connect()) {
            return find(c, name).filter(t -> t.validAt(clock.instant()));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot check token " + name, e);
        }
    }

    private static Optional<ApiToken> find(Connection c, String name) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT name, scope, created_at, expires_at, revoked_at FROM api_token WHERE name = ?")) {
            q.setString(1, name);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? Optional.of(token(rs)) : Optional.empty();
            }
        }
    }

    private static ApiToken token(ResultSet rs) throws SQLException {
        return new ApiToken(rs.getString(1), Scope.parse(rs.getString(2)), Instant.ofEpochMilli(rs.getLong(3)), instant(rs, 4), instant(rs, 5));
    }

    private static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
        long millis = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }

    private static void setInstant(PreparedStatement s, int index, Optional<Instant> value) throws SQLException {
        if (value.isPresent()) {
            s.setLong(index, value.get().toEpochMilli());
        } else {
            s.setNull(index, Types.BIGINT);
        }
    }
}
