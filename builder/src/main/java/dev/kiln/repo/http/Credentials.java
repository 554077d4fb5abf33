package dev.kiln.repo.http;

import dev.kiln.KilnException;
import dev.kiln.config.TargetConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How Kiln signs in to a server target, read on the publishing machine only, never from
 * {@code kiln.yaml}: {@code KILN_TARGET_<NAME>_TOKEN}, or {@code KILN_TARGET_<NAME>_USERNAME} and
 * {@code _PASSWORD}, or else the netrc entry for the target's host ({@code NETRC}, default
 * {@code ~/.netrc}, the file curl and git read too). Its {@link #toString()} shows no secret.
 */
public final class Credentials {

    private final String username;
    private final String header;
    private final String origin;

    private Credentials(String username, String header, String origin) {
        this.username = username;
        this.header = header;
        this.origin = origin;
    }

    /** The {@code Authorization} header value. */
    String authorization() {
        return header;
    }

    /** Who signs in (empty for a token), for messages. */
    public String username() {
        return username;
    }

    /** Where these credentials were read from, for messages: {@code KILN_TARGET_COMPANY_USERNAME}, {@code ~/.netrc}. */
    public String origin() {
        return origin;
    }

    @Override
    public String toString() {
        return "credentials from " + origin;
    }

    /** The environment variables' prefix for target {@code name}: {@code KILN_TARGET_COMPANY_EU}. */
    public static String prefix(String name) {
        return "KILN_TARGET_" + name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    /**
     * The credentials for {@code target}, if any are set.
     *
     * @throws KilnException BAD_INPUT for a user name without a password, or the reverse
     */
    public static Optional<Credentials> forTarget(TargetConfig target, Map<String, String> env) {
        String prefix = prefix(target.name());
        String token = env.get(prefix + "_TOKEN");
        if (token != null && !token.isBlank()) {
            return Optional.of(new Credentials("", "Bearer " + token.strip(), prefix + "_TOKEN"));
        }
        String user = env.get(prefix + "_USERNAME");
        String password = env.get(prefix + "_PASSWORD");
        if ((user == null) != (password == null)) {
            throw KilnException.badInput("target " + target.name() + ": " + (user == null ? prefix + "_PASSWORD is set but not "
                    + prefix + "_USERNAME" : prefix + "_USERNAME is set but not " + prefix + "_PASSWORD") + ": set both");
        }
        if (user != null) {
            return Optional.of(basic(user, password, prefix + "_USERNAME"));
        }
        String host = target.url().map(java.net.URI::getHost).orElse(null);
        if (host == null) {
            return Optional.empty();
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        Path netrc = Path.of(env.getOrDefault("NETRC", home + "/.netrc"));
        return fromNetrc(netrc, host);
    }

    private static Credentials basic(String user, String password, String origin) {
        String pair = user + ":" + password;
        return new Credentials(user, "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)), origin);
    }

    /** The {@code machine host login L password P} entry of a netrc file (or its {@code default}). */
    static Optional<Credentials> fromNetrc(Path file, String host) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        List<String> words;
        try {
            words = List.of(Files.readString(file, StandardCharsets.UTF_8).strip().split("\\s+"));
        } catch (IOException e) {
            throw KilnException.environment("cannot read " + file + " (" + e.getMessage() + "): fix its permissions or set NETRC");
        }
        String login = null;
        String password = null;
        boolean inEntry = false;
        boolean found = false;
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            switch (w) {
                case "machine" -> {
                    if (found) {
                        i = words.size();
                        continue;
                    }
                    inEntry = i + 1 < words.size() && words.get(i + 1).equalsIgnoreCase(host);
                    found = inEntry;
                    i++;
                }
                case "default" -> {
                    if (found) {
                        i = words.size();
                        continue;
                    }
                    inEntry = true;
                    found = true;
                }
                case "login", "password", "account", "macdef" -> {
                    if (i + 1 < words.size() && inEntry) {
                        if (w.equals("login")) {
                            login = words.get(i + 1);
                        } else if (w.equals("password")) {
                            password = words.get(i + 1);
                        }
                    }
                    i++;
                }
                default -> {
                    // another token of an entry we skip
                }
            }
        }
        if (!found || login == null || password == null) {
            return Optional.empty();
        }
        return Optional.of(basic(login, password, file.toString()));
    }
}
