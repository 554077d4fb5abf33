package dev.kiln.config;

import dev.kiln.KilnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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
    private static final Set<String> SECRET_ONLY_FROM_ENV = Set.of("signing.passphrase", "service.database-password");
    /**
     * Settings that widen what a build may read on the host. kiln.yaml comes with the definitions, so
     * whoever can push a branch could set them there: they come from the environment or the command
     * line of the build host only.
     */
    private static final Set<String> HOST_ONLY = Set.of("sources.folder");
    /** What a setting holds in place of a secret value when it is recorded (provenance, build records). */
    public static final String REDACTED = "<redacted>";

    /** Memory of one build container: rpmbuild needs some room, and the byte count must fit a long. */
    public static final long MIN_MEMORY = 64L << 20;
    public static final long MAX_MEMORY = 1L << 40;
    public static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);
    public static final Duration MAX_TIMEOUT = Duration.ofDays(7);
    /** A shell, rpmbuild and make need a handful; the kernel refuses pids.max above PID_MAX_LIMIT (2^22). */
    public static final long MIN_PIDS = 16;
    public static final long MAX_PIDS = 1L << 22;

    /**
     * Folders a repository, state or cache folder must not be in: Kiln creates links and folders
     * there, often as root in CI. Links are resolved first, so a link into them is refused too.
     */
    private static final List<Path> SYSTEM_TREES = Stream.of("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
            "/libx32", "/boot", "/dev", "/proc", "/sys", "/run").map(Path::of).toList();
    /** Folders that may hold a Kiln folder below them, but are never one themselves. */
    private static final List<Path> SYSTEM_FOLDERS = Stream.of("/", "/var", "/var/lib", "/var/cache", "/var/log", "/var/tmp",
            "/tmp", "/home", "/root", "/srv", "/opt", "/mnt", "/media").map(Path::of).toList();
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmg]?)i?b?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(s|m|h|d)", Pattern.CASE_INSENSITIVE);

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
        d.put("sources.folder", "");
        d.put("service.repository", "");
        d.put("service.builds", "2");
        d.put("service.deadline", "2h");
        d.put("service.silence", "15m");
        d.put("service.database", "");
        d.put("service.database-password", "");
        d.put("service.release-branch", "main");
        d.put("service.notify", "");
        d.put("service.canary", "15m");
        d.put("service.url", "");
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
        if (Files.isSymbolicLink(file)) {
            // kiln.yaml comes with the branch, like the specs: a link would read a host file, and messages quote its keys
            throw KilnException.badInput(file + " is a symbolic link: kiln.yaml must be a regular file of the project; "
                    + "replace it with the file itself");
        }
        List<TargetConfig> targets = List.of();
        if (Files.exists(file)) {
            Map<String, Object> yaml = readYamlDocument(file);
            Object targetList = yaml.remove(TARGETS);
            values.putAll(flat(file, yaml));
            if (targetList != null) {
                targets = targets(file, root.toAbsolutePath().normalize(), targetList);
            }
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
            commandLineRefusal(key, value).ifPresent(message -> {
                throw KilnException.badInput(message);
            });
            values.put(key, value);
            origins.put(key, "--" + key);
        });
        return bind(root.toAbsolutePath().normalize(), values, origins, targets);
    }

    /**
     * Why {@code key} must not be given on the command line with {@code value}, if it must not: a
     * command line is visible to every user of the host ({@code ps}) and is recorded in provenance.
     * The message names the setting, never the value.
     */
    public static Optional<String> commandLineRefusal(String key, String value) {
        if (SECRET_ONLY_FROM_ENV.contains(key)) {
            return Optional.of("--" + key + " is a secret and never goes on the command line (every user of the host can "
                    + "read it there, and commands are recorded): set " + environmentName(key) + " instead");
        }
        if (key.equals("signing.key") && isSecretText(value)) {
            return Optional.of("--" + key + " holds key text: a secret key never goes on the command line (every user of "
                    + "the host can read it there, and commands are recorded): set " + environmentName(key)
                    + " to the key text, or --" + key + " to the path of the key file");
        }
        return Optional.empty();
    }

    /** Whether a command-line word or setting value carries key material (an OpenPGP block). */
    public static boolean isSecretText(String value) {
        return value != null && (value.contains("-----BEGIN PGP") || value.contains("PRIVATE KEY"));
    }

    /** {@code value} as it may be recorded for setting {@code key}: secrets become {@link #REDACTED}. */
    public static String recordable(String key, String value) {
        if (SECRET_ONLY_FROM_ENV.contains(key) || isSecretText(value)) {
            return REDACTED;
        }
        return value;
    }

    private static KilnConfig bind(Path root, Map<String, String> v, Map<String, String> origins, List<TargetConfig> targets) {
        String builder = v.get("builder");
        if (!builder.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw KilnException.badInput("builder '" + builder + "' is not a valid name: use letters, digits, '.', '_' and '-'");
        }
        BuildLimits limits = new BuildLimits(timeout(v.get("build.timeout")), memory(v.get("build.memory")),
                pids(v.get("build.pids")));
        SigningConfig signing = signing(root, v.get("signing.key"), origins.getOrDefault("signing.key", "signing.key"),
                v.get("signing.passphrase").toCharArray());
        long port = positive("repo.port", v.get("repo.port"));
        if (port > 65535) {
            throw KilnException.badInput("repo.port '" + v.get("repo.port") + "' is not a port: give 1 to 65535");
        }
        Path state = writableFolder("state", path(root, v.get("state")));
        Path repository = writableFolder("repository", path(root, v.get("repository")));
        Path cache = writableFolder("cache", path(root, v.get("cache")));
        Optional<Path> sources = sourcesFolder(v.get("sources.folder").isBlank() ? null : path(root, v.get("sources.folder")),
                state, signing);
        List<TargetConfig> all = targets.isEmpty() ? List.of(TargetConfig.localDirectory(repository)) : targets;
        return new KilnConfig(root, state, builder, repository, cache, signing, limits, (int) port, sources, all, service(v),
                Optional.empty());
    }

    /** {@code service.*}: the build service's source, concurrency and time limits. */
    private static ServiceConfig service(Map<String, String> v) {
        long builds = positive("service.builds", v.get("service.builds"));
        if (builds > 256) {
            throw KilnException.badInput("service.builds '" + v.get("service.builds") + "' is out of range: give 1 to 256");
        }
        String repository = v.get("service.repository").strip();
        String password = v.get("service.database-password");
        return new ServiceConfig(repository.isEmpty() ? Optional.empty() : Optional.of(repository), (int) builds,
                serviceTime("service.deadline", v.get("service.deadline")), serviceTime("service.silence", v.get("service.silence")),
                serviceDatabase(v.get("service.database").strip()), password.isEmpty() ? Optional.empty() : Optional.of(password),
                releaseBranch(v.get("service.release-branch")), notifyUrl(v.get("service.notify")),
                v.get("service.canary").strip().equals("off") ? Optional.empty() : Optional.of(serviceTime("service.canary", v.get("service.canary"))),
                publicUrl(v.get("service.url")));
    }

    /**
     * {@code service.database}: a PostgreSQL JDBC URL, or empty for the embedded database. The
     * value is never quoted in a message: a URL refused for a password would print it.
     */
    private static Optional<String> serviceDatabase(String url) {
        if (url.isEmpty()) {
            return Optional.empty();
        }
        String lower = url.toLowerCase(Locale.ROOT);
        int authority = lower.indexOf("//");
        int path = authority < 0 ? -1 : lower.indexOf('/', authority + 2);
        String hostPart = authority < 0 ? "" : lower.substring(authority + 2, path < 0 ? lower.length() : path);
        if (lower.contains("password=") || hostPart.contains("@")) {
            throw KilnException.badInput("service.database holds a password: remove it from the URL and set "
                    + environmentName("service.database-password") + " instead (kiln.yaml is read by everyone who can read the branch)");
        }
        if (!lower.startsWith("jdbc:postgresql://") && !lower.startsWith("jdbc:h2:")) {
            throw KilnException.badInput("service.database is not a PostgreSQL JDBC URL: give jdbc:postgresql://host:port/database?user=kiln,"
                    + " or leave it empty for the embedded database");
        }
        return Optional.of(url);
    }

    private static String releaseBranch(String value) {
        String branch = value.strip();
        if (!branch.matches("[A-Za-z0-9._][A-Za-z0-9._/+-]*") || branch.contains("..") || branch.endsWith("/")
                || branch.endsWith(".lock")) {
            throw KilnException.badInput("service.release-branch '" + value + "' is not a branch name: give one like main or release/9");
        }
        return branch;
    }

    /** {@code service.notify}: an http(s) URL with a host, or nothing. */
    private static Optional<java.net.URI> notifyUrl(String value) {
        return httpUrl(value, () -> KilnException.badInput("service.notify is not an http(s) URL without user:password@: give one like"
                + " https://ci.example.com/kiln-hook, and set KILN_SERVICE_NOTIFY_SECRET to sign what it is sent"));
    }

    /** {@code service.url}: the service's address as its users reach it (a base ending in /), or nothing (the address it listens on). */
    private static Optional<java.net.URI> publicUrl(String value) {
        return httpUrl(value, () -> KilnException.badInput("service.url is not an http(s) URL without user:password@: give the"
                + " address users reach the service at, like https://kiln.example.com/"))
                .map(u -> u.getPath() == null || u.getPath().endsWith("/") ? u : java.net.URI.create(u + "/"));
    }

    /**
     * An http(s) URL with a host and no user information; empty for an empty value; anything else is
     * {@code refused}, whose message must not quote the value: a URL may carry a token or password.
     */
    private static Optional<java.net.URI> httpUrl(String value, java.util.function.Supplier<KilnException> refused) {
        String text = value.strip();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            java.net.URI uri = new java.net.URI(text);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null && uri.getUserInfo() == null) {
                return Optional.of(uri);
            }
        } catch (java.net.URISyntaxException e) {
            // refused below
        }
        throw refused.get();
    }

    private static Duration serviceTime(String key, String value) {
        Duration d = duration(key, value);
        if (d == null || d.compareTo(MIN_TIMEOUT) < 0 || d.compareTo(MAX_TIMEOUT) > 0) {
            throw KilnException.badInput(key + " '" + value + "' is out of range: give 1s to 168h");
        }
        return d;
    }

    /**
     * The real path of a folder Kiln writes to, refusing system folders: {@code --repository /etc/yum}
     * or a repository link to {@code /usr} would have Kiln create links and folders there.
     */
    static Path writableFolder(String key, Path path) {
        Path real = realPath(path);
        if (isSystemFolder(real)) {
            throw KilnException.badInput(key + " " + path + (real.equals(path) ? "" : " (" + real + ")")
                    + " is a system folder: Kiln writes there; choose a folder of its own, like .kiln/repo or /srv/kiln/repo");
        }
        return path;
    }

    /** Whether {@code real} (links already resolved) is a system folder or inside one of the system trees. */
    static boolean isSystemFolder(Path real) {
        return SYSTEM_FOLDERS.contains(real) || SYSTEM_TREES.stream().anyMatch(real::startsWith);
    }

    /**
     * {@code path} with every link resolved, also when its last parts do not exist yet: the real
     * path of the longest existing prefix, with the rest appended.
     */
    static Path realPath(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return absolute;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(absolute)).normalize();
        } catch (IOException e) {
            return absolute;
        }
    }

    /**
     * The one folder {@code file:} sources may be read from, as a real path; none by default. It
     * must be a folder of its own: not a system folder, and neither holding nor inside the state
     * folder, where the signing key lives.
     */
    private static Optional<Path> sourcesFolder(Path folder, Path state, SigningConfig signing) {
        if (folder == null) {
            return Optional.empty();
        }
        if (!Files.isDirectory(folder)) {
            throw KilnException.badInput("sources.folder " + folder + " is not a folder: create it, or unset "
                    + environmentName("sources.folder"));
        }
        Path real = realPath(folder);
        Path realState = realPath(state);
        Path key = signing.key() == null ? null : realPath(signing.key());
        if (SYSTEM_FOLDERS.contains(real) || SYSTEM_TREES.stream().anyMatch(real::startsWith)
                || real.startsWith(realState) || realState.startsWith(real) || (key != null && key.startsWith(real))) {
            throw KilnException.badInput("sources.folder " + folder + " would let builds read host files (system folders, "
                    + "Kiln's state or the signing key): choose a folder that holds only sources, like /srv/kiln/sources");
        }
        return Optional.of(real);
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

    /** {@code build.timeout}: from 1s to 7 days (168h). */
    static Duration timeout(String value) {
        Duration d = duration("build.timeout", value);
        if (d == null || d.compareTo(MIN_TIMEOUT) < 0 || d.compareTo(MAX_TIMEOUT) > 0) {
            throw KilnException.badInput("build.timeout '" + value + "' is out of range: give 1s to 168h");
        }
        return d;
    }

    /** {@code build.memory}: from 64m to 1024g. */
    static long memory(String value) {
        long bytes = size("build.memory", value);
        if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) {
            throw KilnException.badInput("build.memory '" + value + "' is out of range: give 64m to 1024g");
        }
        return bytes;
    }

    /** {@code build.pids}: from 16 to 4194304, the most the kernel accepts. */
    static long pids(String value) {
        long n = positive("build.pids", value);
        if (n < MIN_PIDS || n > MAX_PIDS) {
            throw KilnException.badInput("build.pids '" + value + "' is out of range: give " + MIN_PIDS + " to " + MAX_PIDS);
        }
        return n;
    }

    /** The duration, or null when it is too long to represent (which is out of range). */
    public static Duration duration(String key, String value) {
        Matcher m = DURATION.matcher(value.trim());
        if (!m.matches()) {
            throw KilnException.badInput(key + " '" + value + "' is not a duration: write it like 90s, 30m, 2h or 30d");
        }
        long unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "s" -> 1;
            case "m" -> 60;
            case "h" -> 3600;
            default -> 86400;
        };
        try {
            return Duration.ofSeconds(Math.multiplyExact(Long.parseLong(m.group(1)), unit));
        } catch (ArithmeticException | NumberFormatException e) {
            return null;
        }
    }

    /** The size in bytes, or Long.MAX_VALUE when it does not fit a long (which is out of range). */
    static long size(String key, String value) {
        Matcher m = SIZE.matcher(value.trim());
        if (!m.matches()) {
            throw KilnException.badInput(key + " '" + value + "' is not a size: write it like 512m or 2g");
        }
        long unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 1L << 10;
            case "m" -> 1L << 20;
            case "g" -> 1L << 30;
            default -> 1;
        };
        try {
            // 99999999999g would wrap to a negative count with a plain shift
            return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private static long positive(String key, String value) {
        String digits = value.trim();
        try {
            long n = Long.parseLong(digits);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            if (digits.matches("\\+?[0-9]{19,}")) {
                return Long.MAX_VALUE; // positive, and out of every range
            }
        }
        throw KilnException.badInput(key + " '" + value + "' must be a positive whole number");
    }

    private static Map<String, Object> readYamlDocument(Path file) {
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        } catch (MarkedYAMLException e) {
            throw KilnException.badInput(file + ":" + (e.getProblemMark().getLine() + 1) + ": " + e.getProblem());
        } catch (IOException e) {
            throw KilnException.badInput("cannot read " + file + ": " + e.getMessage());
        }
        if (doc == null) {
            return new LinkedHashMap<>();
        }
        if (!(doc instanceof Map<?, ?> map)) {
            throw KilnException.badInput(file + ": expected settings as 'key: value' lines");
        }
        Map<String, Object> result = new LinkedHashMap<>();
        map.forEach((k, v) -> result.put(String.valueOf(k), v));
        return result;
    }

    private static Map<String, String> flat(Path file, Map<String, Object> doc) {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten(file, "", doc, flat);
        return flat;
    }

    /** The one setting that is a list: where builds are published. */
    static final String TARGETS = "targets";
    private static final Pattern TARGET_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Set<String> TARGET_KEYS = Set.of("name", "kind", "path", "url", "repository",
            "metadata-grace", "lock-timeout", "index-timeout");
    private static final Set<String> CREDENTIAL_KEYS = Set.of("username", "user", "password", "token", "credentials", "api-key");

    private static List<TargetConfig> targets(Path file, Path root, Object value) {
        if (!(value instanceof List<?> list) || list.isEmpty()) {
            throw KilnException.badInput(file + ": targets must be a list of targets, each with a name and a kind "
                    + "(- name: company / kind: webdav / url: https://...)");
        }
        List<TargetConfig> targets = new java.util.ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String where = file + ": targets[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> entry)) {
                throw KilnException.badInput(where + " must be a map with name, kind and path or url");
            }
            Map<String, String> t = new LinkedHashMap<>();
            entry.forEach((k, v) -> t.put(String.valueOf(k), v == null ? "" : String.valueOf(v)));
            for (String key : t.keySet()) {
                if (CREDENTIAL_KEYS.contains(key.toLowerCase(Locale.ROOT))) {
                    throw KilnException.badInput(where + ": " + key + " must not be written in kiln.yaml (it is committed): "
                            + "set KILN_TARGET_<NAME>_USERNAME and _PASSWORD (or _TOKEN), or a netrc entry for the host, "
                            + "on the publishing machine instead");
                }
                if (!TARGET_KEYS.contains(key)) {
                    throw KilnException.badInput(where + ": unknown key '" + key + "': known are " + new java.util.TreeSet<>(TARGET_KEYS));
                }
            }
            String name = t.getOrDefault("name", "");
            if (!TARGET_NAME.matcher(name).matches()) {
                throw KilnException.badInput(where + ": name '" + name + "' is not a valid target name: use letters, digits, '.', '_' and '-'");
            }
            if (!names.add(name)) {
                throw KilnException.badInput(where + ": a second target is named '" + name + "': give each target its own name");
            }
            where = file + ": target " + name;
            TargetConfig.Kind kind;
            try {
                kind = TargetConfig.Kind.valueOf(t.getOrDefault("kind", "").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw KilnException.badInput(where + ": kind '" + t.getOrDefault("kind", "") + "' is not one of directory, webdav, "
                        + "nexus, artifactory");
            }
            Optional<Path> path = Optional.empty();
            Optional<java.net.URI> url = Optional.empty();
            if (kind == TargetConfig.Kind.DIRECTORY) {
                if (t.getOrDefault("path", "").isBlank() || t.containsKey("url")) {
                    throw KilnException.badInput(where + ": a directory target needs path: (a folder) and no url:");
                }
                path = Optional.of(writableFolder("target " + name, path(root, t.get("path"))));
            } else {
                url = Optional.of(targetUrl(where, t.getOrDefault("url", "")));
                if (t.containsKey("path")) {
                    throw KilnException.badInput(where + ": a " + kind.spelling() + " target has a url:, not a path:");
                }
            }
            String repository = t.getOrDefault("repository", "");
            if ((kind == TargetConfig.Kind.ARTIFACTORY) != !repository.isBlank()) {
                throw KilnException.badInput(where + (kind == TargetConfig.Kind.ARTIFACTORY
                        ? ": an artifactory target needs repository: (the repository key, like rpm-local)"
                        : ": repository: is only for artifactory targets"));
            }
            targets.add(new TargetConfig(name, kind, path, url, repository,
                    targetDuration(where, "metadata-grace", t.get("metadata-grace"), TargetConfig.DEFAULT_GRACE, true),
                    targetDuration(where, "lock-timeout", t.get("lock-timeout"), TargetConfig.DEFAULT_LOCK_TIMEOUT, false),
                    targetDuration(where, "index-timeout", t.get("index-timeout"), TargetConfig.DEFAULT_INDEX_TIMEOUT, false)));
        }
        return List.copyOf(targets);
    }

    private static java.net.URI targetUrl(String where, String value) {
        java.net.URI uri;
        try {
            uri = new java.net.URI(value.endsWith("/") ? value : value + "/");
        } catch (java.net.URISyntaxException e) {
            throw KilnException.badInput(where + ": url '" + value + "' is not a URL: " + e.getReason());
        }
        if (uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null) {
            throw KilnException.badInput(where + ": url '" + value + "' must be an http:// or https:// URL with a host");
        }
        if (uri.getRawUserInfo() != null) {
            throw KilnException.badInput(where + ": url must not hold a user name or password (kiln.yaml is committed): "
                    + "set KILN_TARGET_<NAME>_USERNAME and _PASSWORD, or a netrc entry, on the publishing machine");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw KilnException.badInput(where + ": url '" + value + "' must not have a query or fragment");
        }
        return uri;
    }

    private static Duration targetDuration(String where, String key, String value, Duration fallback, boolean zeroAllowed) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        Duration d = duration(key, value);
        if (d == null || (!zeroAllowed && d.isZero()) || d.compareTo(MAX_TIMEOUT) > 0) {
            throw KilnException.badInput(where + ": " + key + " '" + value + "' is out of range: give "
                    + (zeroAllowed ? "0s" : "1s") + " to 168h");
        }
        return d;
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
            if (HOST_ONLY.contains(key)) {
                throw KilnException.badInput(file + ": " + key + " is a setting of the build host, not of the definitions "
                        + "(a branch could widen what builds read): set " + environmentName(key) + " instead");
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
