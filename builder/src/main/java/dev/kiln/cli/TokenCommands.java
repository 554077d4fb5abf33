package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.config.ConfigLoader;
import dev.kiln.config.KilnConfig;
import dev.kiln.service.ApiToken;
import dev.kiln.service.Scope;
import dev.kiln.service.ServiceDatabase;
import dev.kiln.service.TokenStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code kiln token create|list|revoke}: the service's API tokens, made on the service's machine
 * (whoever can run these can read the service's database). A new token's secret is printed once.
 */
@Configuration(proxyBeanMethods = false)
class TokenCommands {

    @Bean
    KilnCommand tokenCreate() {
        return new KilnCommand("token create", "Make an API token for the service; its secret is printed once", "NAME", 1, 1, List.of(
                KilnCommand.Opt.value("scope", "build|publish|admin", "what it may do: scratch builds, publishing builds, everything"),
                KilnCommand.Opt.value("expires", "DURATION", "how long it works, like 30d or 12h (default: until revoked)"),
                KilnCommand.Opt.JSON)) {
            @Override
            protected int run(Invocation invocation, Output out) {
                Scope scope = Scope.parse(invocation.value("scope").orElseThrow(() -> KilnException.badInput(
                        "token create: --scope is required: build (scratch builds), publish or admin")));
                Optional<Duration> lifetime = invocation.value("expires").map(v -> {
                    Duration d = ConfigLoader.duration("--expires", v);
                    if (d == null) {
                        throw KilnException.badInput("--expires '" + v + "' is too long: give one like 365d, or leave it out");
                    }
                    return d;
                });
                TokenStore.Created made = withTokens(config(invocation),
                        tokens -> tokens.create(invocation.arguments().getFirst(), scope, lifetime, actor()));
                if (invocation.flag("json")) {
                    Map<String, Object> doc = describe(made.token());
                    doc.put("secret", made.secret());
                    out.json(doc);
                    return 0;
                }
                out.result("Made token " + made.token().name() + " (scope " + scope.label()
                        + made.token().expires().map(e -> ", expires " + e).orElse(", no expiry") + "). Its secret, shown only now:");
                out.result(made.secret());
                out.result("Clients pass it in KILN_TOKEN.");
                return 0;
            }
        };
    }

    @Bean
    KilnCommand tokenList() {
        return new KilnCommand("token list", "List the service's API tokens (never their secrets)", "", 0, 0, List.of(KilnCommand.Opt.JSON)) {
            @Override
            protected int run(Invocation invocation, Output out) {
                List<ApiToken> tokens = withTokens(config(invocation), TokenStore::list);
                Instant now = Instant.now();
                if (invocation.flag("json")) {
                    out.json(Map.of("tokens", tokens.stream().map(t -> {
                        Map<String, Object> doc = describe(t);
                        doc.put("valid", t.validAt(now));
                        return doc;
                    }).toList()));
                    return 0;
                }
                if (tokens.isEmpty()) {
                    out.result("No tokens: make one with ./kiln token create NAME --scope build|publish|admin");
                }
                for (ApiToken t : tokens) {
                    out.result(t.name() + "  " + t.scope().label() + "  "
                            + (t.revoked().isPresent() ? "revoked " + t.revoked().get()
                                    : t.expires().map(e -> (t.validAt(now) ? "expires " : "expired ") + e).orElse("no expiry")));
                }
                return 0;
            }
        };
    }

    @Bean
    KilnCommand tokenRevoke() {
        return new KilnCommand("token revoke", "Revoke an API token: it signs nobody in from now on", "NAME", 1, 1, List.of(KilnCommand.Opt.JSON)) {
            @Override
            protected int run(Invocation invocation, Output out) {
                ApiToken t = withTokens(config(invocation), tokens -> tokens.revoke(invocation.arguments().getFirst(), actor()));
                if (invocation.flag("json")) {
                    out.json(describe(t));
                    return 0;
                }
                out.result("Token " + t.name() + " revoked " + t.revoked().orElseThrow());
                return 0;
            }
        };
    }

    /** Runs {@code work} on the service's tokens, the database open for it only. */
    private static <T> T withTokens(KilnConfig config, java.util.function.Function<TokenStore, T> work) {
        try (ServiceDatabase db = database(config)) {
            return work.apply(new TokenStore(db, Clock.systemUTC()));
        }
    }

    /** The service's database, where the service keeps it: {@code service.database}, or the embedded one in the state folder. */
    static ServiceDatabase database(KilnConfig config) {
        return config.service().database()
                .map(url -> ServiceDatabase.open(url, config.service().databasePassword()))
                .orElseGet(() -> ServiceDatabase.embedded(config.state().resolve("service")));
    }

    /** Who runs the command, for the audit log: the user of this machine. */
    private static String actor() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "unknown-host";
        }
        return "local:" + System.getProperty("user.name") + "@" + host;
    }

    private static Map<String, Object> describe(ApiToken t) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("name", t.name());
        doc.put("scope", t.scope().label());
        doc.put("created", t.created().toString());
        doc.put("expires", t.expires().map(Instant::toString).orElse(null));
        doc.put("revoked", t.revoked().map(Instant::toString).orElse(null));
        return doc;
    }
}
