package dev.kiln.service;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A token as the service knows it: never its secret, which only its holder has (the store keeps a
 * hash of it).
 *
 * @param expires when it stops working; empty for a token that never expires
 * @param revoked when it was revoked; empty while it is valid
 */
public record ApiToken(String name, Scope scope, Instant created, Optional<Instant> expires, Optional<Instant> revoked) {

    /** How long before its expiry responses warn that a token is about to expire. */
    public static final Duration EXPIRY_WARNING = Duration.ofDays(7);

    /** Whether it signs in at {@code now}: not revoked and not expired. */
    public boolean validAt(Instant now) {
        return revoked.isEmpty() && expires.map(now::isBefore).orElse(true);
    }

    /** Whether its holder should be told, at {@code now}, that it expires soon. */
    public boolean expiresSoon(Instant now) {
        return expires.map(e -> !now.plus(EXPIRY_WARNING).isBefore(e)).orElse(false);
    }
}
