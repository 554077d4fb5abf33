package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import dev.kiln.Sha256;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The token store against a real database: each subclass opens its own kind (the embedded H2 file,
 * a PostgreSQL server), and every case holds on each.
 */
abstract class TokenStoreCases {

    @TempDir
    Path dir;
    private final java.util.List<ServiceDatabase> opened = new java.util.ArrayList<>();

    /** Opens the test's one database once more (each call as another process would). */
    protected abstract ServiceDatabase open();

    /** Every byte the database keeps on disk now, as ISO-8859-1 text. */
    protected abstract String storedBytes() throws Exception;

    private ServiceDatabase database() {
        ServiceDatabase db = open();
        opened.add(db);
        return db;
    }

    /** Every regular file under {@code folder}, as ISO-8859-1 text. */
    static String filesUnder(Path folder) throws java.io.IOException {
        try (Stream<Path> all = Files.walk(folder)) {
            StringBuilder text = new StringBuilder();
            for (Path f : (Iterable<Path>) all.filter(Files::isRegularFile)::iterator) {
                text.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
            }
            return text.toString();
        }
    }

    @org.junit.jupiter.api.AfterEach
    void close() {
        opened.forEach(ServiceDatabase::close);
    }

    /** A clock the test moves. */
    static final class MovableClock extends Clock {
        Instant now = Instant.parse("2026-12-01T10:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void aSecretSignsInUntilItExpiresOrIsRevokedAndNothingElseDoes() {
        MovableClock clock = new MovableClock();
        ServiceDatabase db = database();
        TokenStore tokens = new TokenStore(db, clock);
        TokenStore.Created ci = tokens.create("ci", Scope.PUBLISH, Optional.of(Duration.ofDays(30)), "local:root@host");
        TokenStore.Created alice = tokens.create("alice", Scope.BUILD, Optional.empty(), "local:root@host");

        assertThat(ci.secret()).startsWith(TokenStore.PREFIX).hasSizeGreaterThan(40).isNotEqualTo(alice.secret());
        assertThat(ci.toString()).doesNotContain(ci.secret());
        assertThat(tokens.authenticate(ci.secret())).get().extracting(ApiToken::name, ApiToken::scope).containsExactly("ci", Scope.PUBLISH);
        assertThat(tokens.authenticate(alice.secret())).get().extracting(ApiToken::name).isEqualTo("alice");
        assertThat(tokens.authenticate(ci.secret() + "x")).isEmpty();
        assertThat(tokens.authenticate(ci.secret().substring(TokenStore.PREFIX.length()))).isEmpty();
        assertThat(tokens.authenticate(null)).isEmpty();

        clock.now = clock.now.plus(Duration.ofDays(24));
        assertThat(tokens.authenticate(ci.secret()).orElseThrow().expiresSoon(clock.now)).as("six days left").isTrue();
        clock.now = clock.now.plus(Duration.ofDays(6));
        assertThat(tokens.authenticate(ci.secret())).as("expired on the 30th day").isEmpty();
        assertThat(tokens.authenticate(alice.secret())).as("no expiry").isPresent();

        ApiToken revoked = tokens.revoke("alice", "local:root@host");
        assertThat(revoked.revoked()).contains(clock.now);
        assertThat(tokens.authenticate(alice.secret())).isEmpty();
        assertThat(tokens.revoke("alice", "local:root@host").revoked()).as("revoking again changes nothing").contains(clock.now);
        assertThat(tokens.list()).extracting(ApiToken::name).containsExactly("alice", "ci");

        assertThat(Audit.read(db)).extracting(Audit.Event::action, Audit.Event::subject).containsExactly(
                org.assertj.core.groups.Tuple.tuple("token-create", "ci scope=publish expires=2026-12-31T10:00:00Z"),
                org.assertj.core.groups.Tuple.tuple("token-create", "alice scope=build"),
                org.assertj.core.groups.Tuple.tuple("token-revoke", "alice"));
        assertThat(Audit.read(db)).extracting(Audit.Event::actor).containsOnly("local:root@host");
    }

    @Test
    void aWebSessionLastsTwelveHoursAtMostOrUntilItsTokenExpiresAndItsTokenIsCheckedByName() {
        MovableClock clock = new MovableClock();
        TokenStore tokens = new TokenStore(database(), clock);
        ApiToken shortLived = tokens.create("short", Scope.BUILD, Optional.of(Duration.ofHours(2)), "t").token();
        ApiToken longLived = tokens.create("long", Scope.PUBLISH, Optional.of(Duration.ofDays(30)), "t").token();
        WebSessions sessions = new WebSessions(tokens, clock);

        WebSessions.Session first = sessions.open(shortLived);
        WebSessions.Session second = sessions.open(longLived);
        assertThat(first.expires()).as("the token's expiry").isEqualTo(clock.now.plus(Duration.ofHours(2)));
        assertThat(second.expires()).as("twelve hours").isEqualTo(clock.now.plus(WebSessions.LIFETIME));
        assertThat(second.scope()).isEqualTo(Scope.PUBLISH);
        assertThat(first.id()).isNotEqualTo(second.id()).isNotEqualTo(first.csrf()).hasSizeGreaterThanOrEqualTo(43);
        assertThat(first.toString()).doesNotContain(first.id()).doesNotContain(first.csrf());

        assertThat(tokens.valid("long")).get().extracting(ApiToken::created).isEqualTo(longLived.created());
        assertThat(tokens.valid("nobody")).isEmpty();
        clock.now = clock.now.plus(Duration.ofHours(2));
        assertThat(tokens.valid("short")).as("expired").isEmpty();
        tokens.revoke("long", "t");
        assertThat(tokens.valid("long")).as("revoked").isEmpty();
    }

    @Test
    void theDatabaseHoldsOnlyTheHashOfASecret() throws Exception {
        TokenStore.Created made;
        try (ServiceDatabase db = open()) {
            made = new TokenStore(db, Clock.systemUTC()).create("ci", Scope.ADMIN, Optional.empty(), "t");
        }
        assertThat(storedBytes()).contains(Sha256.hex(made.secret())).doesNotContain(made.secret())
                .doesNotContain(made.secret().substring(TokenStore.PREFIX.length()));
    }

    @Test
    void badNamesTakenNamesAndUnknownTokensAreBadInput() {
        TokenStore tokens = new TokenStore(database(), Clock.systemUTC());
        tokens.create("ci", Scope.BUILD, Optional.empty(), "t");
        for (String bad : new String[] {"", "has space", "-leading", "x".repeat(65), "semi;colon"}) {
            assertThatThrownBy(() -> tokens.create(bad, Scope.BUILD, Optional.empty(), "t")).as(bad)
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                    .hasMessageContaining("is not a name");
        }
        assertThatThrownBy(() -> tokens.create("ci", Scope.ADMIN, Optional.empty(), "t")).hasMessageContaining("exists already");
        assertThatThrownBy(() -> tokens.create("other", Scope.ADMIN, Optional.of(Duration.ZERO), "t")).hasMessageContaining("--expires");
        assertThatThrownBy(() -> tokens.revoke("nobody", "t")).hasMessageContaining("there is no token named nobody");
        assertThat(tokens.list()).extracting(ApiToken::name).containsExactly("ci");
    }

    @Test
    void eachScopeIncludesTheOnesBeforeIt() {
        assertThat(Scope.ADMIN.allows(Scope.PUBLISH)).isTrue();
        assertThat(Scope.PUBLISH.allows(Scope.BUILD)).isTrue();
        assertThat(Scope.BUILD.allows(Scope.PUBLISH)).isFalse();
        assertThat(Scope.PUBLISH.allows(Scope.ADMIN)).isFalse();
        assertThat(Scope.parse(" Publish ")).isEqualTo(Scope.PUBLISH);
        assertThatThrownBy(() -> Scope.parse("root")).hasMessage("--scope 'root' is not a scope: give one of build, publish, admin");
    }
}
