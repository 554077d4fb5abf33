package dev.kiln.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.kiln.KilnException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A connection to the Docker engine. Where no engine answers on the default socket and we run as
 * root on Debian or Ubuntu, it installs and starts {@code dockerd} itself, so a fresh machine can
 * build without a manual step; anywhere else it says exactly what to run.
 */
public final class DockerEngine implements AutoCloseable {

    static final String DEFAULT_HOST = "unix:///var/run/docker.sock";
    private static final Duration START_WAIT = Duration.ofSeconds(60);

    private final DockerClient client;
    private final DockerHttpClient http;
    private final String host;
    private final Path stateDir;
    /** Labels put on every container and image this connection makes, besides Kiln's own. */
    private final Map<String, String> labels;
    /** Whether closing closes the connection: a {@link #labelled} view leaves it to the connection it came from. */
    private final boolean owner;

    private DockerEngine(Connection c, String host, Path stateDir) {
        this(c, host, stateDir, Map.of(), true);
    }

    private DockerEngine(Connection c, String host, Path stateDir, Map<String, String> labels, boolean owner) {
        this.client = c.client();
        this.http = c.http();
        this.host = host;
        this.stateDir = stateDir;
        this.labels = Map.copyOf(labels);
        this.owner = owner;
    }

    private record Connection(DockerClient client, DockerHttpClient http) {
    }

    /** Connects to DOCKER_HOST (default {@value #DEFAULT_HOST}), keeping state under the default state folder. */
    public static DockerEngine connect(Consumer<String> say) {
        return connect(defaultStateDir(), say);
    }

    /** Connects to DOCKER_HOST (default {@value #DEFAULT_HOST}); {@code stateDir} holds the dockerd log and caches. */
    public static DockerEngine connect(Path stateDir, Consumer<String> say) {
        String host = System.getenv("DOCKER_HOST");
        return connect(host == null || host.isBlank() ? DEFAULT_HOST : host, stateDir, say);
    }

    /**
     * Connects to the engine at {@code host}; starts a local dockerd only when {@code host} is the
     * default socket. Once connected, removes what killed Kiln runs left on it ({@link OrphanSweep}).
     */
    public static DockerEngine connect(String host, Path stateDir, Consumer<String> say) {
        Connection c = newClient(host);
        if (answers(c.client())) {
            OrphanSweep.run(c.client(), say);
            return new DockerEngine(c, host, stateDir);
        }
        closeQuietly(c.client());
        if (!DEFAULT_HOST.equals(host) || !HostSystem.isRootOnDebian()) {
            throw noEngine(host);
        }
        Path log = startDockerd(stateDir, say);
        c = newClient(host);
        long deadline = System.nanoTime() + START_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(Path.of(URI.create(host).getPath())) && answers(c.client())) {
                say.accept("No Docker engine was reachable; started dockerd (log: " + log + ")");
                return new DockerEngine(c, host, stateDir);
            }
            sleep(Duration.ofMillis(500));
        }
        closeQuietly(c.client());
        throw new KilnException(KilnException.ENVIRONMENT,
                "Started dockerd but it did not answer within " + START_WAIT.toSeconds() + " s: see " + log);
    }

    /**
     * The same connection, labelling what it makes with {@code extra} too (the service's build id,
     * so a cancelled build's containers are found at once). Closing the view leaves the connection open.
     */
    public DockerEngine labelled(Map<String, String> extra) {
        Map<String, String> all = new java.util.LinkedHashMap<>(labels);
        all.putAll(extra);
        return new DockerEngine(new Connection(client, http), host, stateDir, all, false);
    }

    /** The labels of {@link #labelled}, put on every container and image made through this connection. */
    public Map<String, String> labels() {
        return labels;
    }

    /** Removes at once every container labelled {@code key=value} (any value when null), running or not; returns how many. */
    public int removeContainers(String key, String value) {
        int removed = 0;
        for (var c : client.listContainersCmd().withShowAll(true).withLabelFilter(List.of(value == null ? key : key + "=" + value))
                .exec()) {
            try {
                client.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
                removed++;
            } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
                // removed meanwhile by its own build
            }
        }
        return removed;
    }

    public DockerClient client() {
        return client;
    }

    /** The engine address, e.g. {@code unix:///var/run/docker.sock}. */
    public String host() {
        return host;
    }

    /** Where Kiln keeps what it learns about this engine's images (toolchain digests). */
    public Path stateDir() {
        return stateDir;
    }

    /**
     * Imports a root file system tar as {@code repository:tag} and returns the new image id.
     * Sent as a plain request: docker-java 3.7.1's createImageCmd truncates the upload through the
     * httpclient5 transport (the engine answers "Error processing tar file: unexpected EOF").
     */
    String importImage(InputStream rootfsTar, String repository, String tag) {
        DockerHttpClient.Request request = DockerHttpClient.Request.builder()
                .method(DockerHttpClient.Request.Method.POST)
                .path("/images/create?fromSrc=-&repo=" + URLEncoder.encode(repository, StandardCharsets.UTF_8)
                        + "&tag=" + URLEncoder.encode(tag, StandardCharsets.UTF_8))
                .putHeader("Content-Type", "application/x-tar")
                .body(rootfsTar)
                .build();
        try (DockerHttpClient.Response response = http.execute(request)) {
            String body = new String(response.getBody().readAllBytes(), StandardCharsets.UTF_8);
            Matcher id = Pattern.compile("\"status\"\\s*:\\s*\"(sha256:[0-9a-f]{64})\"").matcher(body);
            if (response.getStatusCode() != 200 || !id.find()) {
                throw new KilnException(KilnException.ENVIRONMENT, "The Docker engine refused to import "
                        + repository + ":" + tag + " (HTTP " + response.getStatusCode() + "): " + body.trim());
            }
            return id.group(1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (owner) {
            closeQuietly(client);
        }
    }

    static Path defaultStateDir() {
        String xdg = System.getenv("XDG_STATE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state");
        return base.resolve("kiln");
    }

    /**
     * The engine at DOCKER_HOST (or the default socket) if it answers now; never starts one. Once
     * connected, removes what killed Kiln runs left on it ({@link OrphanSweep}), as {@link #connect} does.
     */
    public static java.util.Optional<DockerEngine> reachable(Path stateDir, Consumer<String> say) {
        String host = System.getenv("DOCKER_HOST");
        host = host == null || host.isBlank() ? DEFAULT_HOST : host;
        Connection c = newClient(host);
        if (answers(c.client())) {
            OrphanSweep.run(c.client(), say);
            return java.util.Optional.of(new DockerEngine(c, host, stateDir));
        }
        closeQuietly(c.client());
        return java.util.Optional.empty();
    }

    static KilnException noEngine(String host) {
        return new KilnException(KilnException.ENVIRONMENT, "No Docker engine at " + host
                + ": start one with `sudo apt-get install -y docker.io && sudo systemctl start docker` (or `sudo dockerd &`)");
    }

    private static Connection newClient(String host) {
        DockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host).build();
        DockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .sslConfig(config.getSSLConfig())
                .connectionTimeout(Duration.ofSeconds(5))
                // Builds and followed logs stream for as long as the build runs: no response timeout.
                .responseTimeout(Duration.ZERO)
                .maxConnections(50)
                .build();
        return new Connection(DockerClientImpl.getInstance(config, http), http);
    }

    private static boolean answers(DockerClient client) {
        try {
            client.pingCmd().exec();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Path startDockerd(Path stateDir, Consumer<String> say) {
        if (!HostSystem.onPath("dockerd")) {
            say.accept("No Docker engine was reachable and dockerd is not installed: installing docker.io with apt-get ...");
            HostSystem.aptInstall("docker.io", say);
        }
        Path log = stateDir != null ? stateDir.resolve("dockerd.log") : Path.of("/var/log/kiln-dockerd.log");
        try {
            Files.createDirectories(log.getParent());
            List<String> command = new ArrayList<>();
            // setsid: the engine must outlive this command and ignore a Ctrl-C sent to our process group.
            if (HostSystem.onPath("setsid")) {
                command.add("setsid");
            }
            command.add("dockerd");
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.start();
        } catch (IOException e) {
            throw new KilnException(KilnException.ENVIRONMENT, "Could not start dockerd (" + e.getMessage() + "): see " + log, e);
        }
        return log;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KilnException(KilnException.ENVIRONMENT, "Interrupted while waiting for dockerd");
        }
    }

    private static void closeQuietly(DockerClient client) {
        try {
            client.close();
        } catch (IOException | RuntimeException ignored) {
            // Closing a connection that never worked has nothing useful to report.
        }
    }
}
