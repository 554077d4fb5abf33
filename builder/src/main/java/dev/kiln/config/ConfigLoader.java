package dev.kiln.config;

import dev.kiln.KilnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads {@code kiln.yaml}, then lets {@code KILN_*} environment variables and command-line
 * options override each setting, in that order. Settings are named by dotted keys
 * ({@code build.timeout}); the environment variable is the key upper-cased with dots and dashes
 * as underscores ({@code KILN_BUILD_TIMEOUT}).
 */
public final class ConfigLoader {

    public static final String FILE_NAME = "kiln.yaml";

    private static final Map<String, String> DEFAULTS = defaults();
    private static final Set<String> SECRET_ONLY_FROM_ENV = Set.of("signing.passphrase");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmg]?)i?b?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(s|m|h)", Pattern.CASE_INSENSITIVE);

    private ConfigLoader() {
    }

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("state", ".kiln");
        d.put("builder", "rpm-builder");
        d.put("repository", ".kiln/repo");
        d.put("cache", ".kiln/cache");
        d.put("signing.key", ".kiln/keys/signing-key.asc");
        d.put("signing.passphrase", "");
        d.put("build.timeout", "30m");
        d.put("build.memory", "2g");
        d.put("build.pids", "1024");
        d.put("repo.port", "8080");
        return d;
    }

    /** The names of all settings, for help texts and validation. */
    public static Set<String> settingNames() {
        return DEFAULTS.keySet();
    }

    /** The environment variable that overrides a setting. */
    public static String environmentName(String key) {
        return "KILN_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    public static KilnConfig load(Path root, Map<String, String> env, Map<String, String> options) {
        Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
        Path file = root.resolve(FILE_NAME);
        if (Files.exists(file)) {
            values.putAll(readYaml(file));
        }
        Map<String, String> origins = new LinkedHashMap<>();
        for (String key : DEFAULTS.keySet()) {
            String fromEnv = env.get(environmentName(key));
            if (fromEnv != null && !fromEnv.isBlank()) {
                values.put(key, fromEnv);
                origins.put(key, environmentName(key));
            }
        }
        options.forEach((key, value) -> {
            if (!DEFAULTS.containsKey(key)) {
                throw KilnException.badInput("unknown setting '" + key + "': known are " + DEFAULTS.keySet());
            }
            values.put(key, value);
            origins.put(key, "--" + key);
        });
        return bind(root.toAbsolutePath().normalize(), values, origins);
    }

    private static KilnConfig bind(Path root, Map<String, String> v, Map<String, String> origins) {
        String builder = v.get("builder");
        if (!builder.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw KilnException.badInput("builder '" + builder + "' is not a valid name: use letters, digits, '.', '_' and '-'");
        }
        BuildLimits limits = new BuildLimits(duration("build.timeout", v.get("build.timeout")),
                size("build.memory", v.get("build.memory")), positive("build.pids", v.get("build.pids")));
        SigningConfig signing = signing(root, v.get("signing.key"), origins.getOrDefault("signing.key", "signing.key"),
                v.get("signing.passphrase").toCharArray());
        int port = (int) positive("repo.port", v.get("repo.port"));
        return new KilnConfig(root, path(root, v.get("state")), builder, path(root, v.get("repository")),
                path(root, v.get("cache")), signing, limits, port);
    }

    /**
     * The signing key setting is a path, or (in CI) the armored secret key itself. Messages name
     * the variable, never the value: it may be a secret.
     */
    private static SigningConfig signing(Path root, String value, String origin, char[] passphrase) {
        if (SigningConfig.isArmoredKey(value)) {
            return SigningConfig.text(value, origin, passphrase);
        }
        if (value.contains("-----BEGIN PGP")) {
            throw KilnException.badInput(origin + " holds an OpenPGP block that is not a secret key: give the output of "
                    + "gpg --armor --export-secret-keys, or the path of a file holding it");
        }
        if (value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
            throw KilnException.badInput(origin + " is neither a file path nor an ASCII-armored secret key (one starting with "
                    + SigningConfig.ARMOR_HEADER + ")");
        }
        return new SigningConfig(path(root, value), passphrase);
    }

    private static Path path(Path root, String value) {
        Path p = Path.of(value.startsWith("~/") ? System.getProperty("user.home") + value.substring(1) : value);
        return root.resolve(p).normalize();
    }

    static Duration duration(String key, String value) {
        Matcher m = DURATION.matcher(value.trim());
        if (!m.matches()) {
            throw KilnException.badInput(key + " '" + value + "' is not a duration: write it like 90s, 30m or 2h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    static long size(String key, String value) {
        Matcher m = SIZE.matcher(value.trim());
        if (!m.matches()) {
            throw KilnException.badInput(key + " '" + value + "' is not a size: write it like 512m or 2g");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> n << 10;
            case "m" -> n << 20;
            case "g" -> n << 30;
            default -> n;
        };
    }

    private static long positive(String key, String value) {
        try {
            long n = Long.parseLong(value.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw KilnException.badInput(key + " '" + value + "' must be a positive whole number");
    }

    private static Map<String, String> readYaml(Path file) {
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        } catch (MarkedYAMLException e) {
            throw KilnException.badInput(file + ":" + (e.getProblemMark().getLine() + 1) + ": " + e.getProblem());
        } catch (IOException e) {
            throw KilnException.badInput("cannot read " + file + ": " + e.getMessage());
        }
        Map<String, String> flat = new LinkedHashMap<>();
        if (doc == null) {
            return flat;
        }
        if (!(doc instanceof Map<?, ?> map)) {
            throw KilnException.badInput(file + ": expected settings as 'key: value' lines");
        }
        flatten(file, "", map, flat);
        return flat;
    }

    private static void flatten(Path file, String prefix, Map<?, ?> map, Map<String, String> out) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> nested) {
                flatten(file, key + ".", nested, out);
                continue;
            }
            if (!DEFAULTS.containsKey(key)) {
                throw KilnException.badInput(file + ": unknown setting '" + key + "': known are " + DEFAULTS.keySet());
            }
            if (SECRET_ONLY_FROM_ENV.contains(key)) {
                throw KilnException.badInput(file + ": " + key + " must not be written in a file: set "
                        + environmentName(key) + " instead");
            }
            String value = e.getValue() == null ? "" : String.valueOf(e.getValue());
            if (key.equals("signing.key") && value.contains("-----BEGIN PGP")) {
                throw KilnException.badInput(file + ": signing.key must name a key file, not hold the key: remove the key "
                        + "from this file (and from Git history), and in CI set " + environmentName(key) + " to the key text instead");
            }
            out.put(key, value);
        }
    }
}
