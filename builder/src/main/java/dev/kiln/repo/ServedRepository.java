package dev.kiln.repo;

import dev.kiln.config.TargetConfig;
import dev.kiln.repo.http.Credentials;
import dev.kiln.repo.http.WebDav;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * A target's repository read the way dnf reads it: over HTTP from the target's {@link PublishTarget#baseUrl()},
 * with the target's credentials, each request retried as {@link WebDav} retries it. A directory
 * target (a {@code file:} base URL) is served for the time of the read by a {@link RepositoryServer}
 * on loopback, the server {@code kiln repo serve} runs, so its files are read through HTTP as well.
 * Files are downloaded into a scratch folder removed on close.
 */
public final class ServedRepository implements AutoCloseable, Verification.Files {

    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);

    private final WebDav http;
    private final RepositoryServer server;
    private final Path scratch;
    private final boolean credentialed;
    private RepositoryServer relay;

    private ServedRepository(WebDav http, RepositoryServer server, Path scratch, boolean credentialed) {
        this.http = http;
        this.server = server;
        this.scratch = scratch;
        this.credentialed = credentialed;
    }

    /**
     * Opens {@code target}'s repository for reading.
     *
     * @param env where credentials come from, as for publishing
     * @param scratchParent a folder of this machine for the downloads (a fresh folder in it is used and removed)
     */
    public static ServedRepository open(PublishTarget target, Map<String, String> env, Path scratchParent) {
        TargetConfig config = target.config();
        URI base = target.baseUrl();
        RepositoryServer server = null;
        if ("file".equals(base.getScheme())) {
            server = RepositoryServer.start(Path.of(base), "127.0.0.1", 0);
            base = server.uri();
        }
        try {
            Path scratch = Files.createTempDirectory(Files.createDirectories(scratchParent), "check-");
            TargetConfig reading = new TargetConfig(config.name(), config.kind(), config.path(), Optional.of(base), config.repository(),
                    config.metadataGrace(), config.lockTimeout(), config.indexTimeout());
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                    .followRedirects(HttpClient.Redirect.NEVER).build(); // credentials stay with the host they are for
            Optional<Credentials> credentials = Credentials.forTarget(config, env);
            return new ServedRepository(new WebDav(reading, credentials, client, REQUEST_TIMEOUT), server, scratch, credentials.isPresent());
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            if (e instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw (RuntimeException) e;
        }
    }

    /** The URL the repository is read from: the baseurl to give dnf while this is open. */
    public URI url() {
        return http.base();
    }

    /**
     * The URL another program (dnf) reads the repository from while this is open: {@link #url()}, or
     * for a target that needs credentials a {@linkplain RepositoryServer#relay relay} on loopback that adds them, so
     * they are handed to no other program.
     */
    public synchronized URI urlForOtherPrograms() {
        if (!credentialed) {
            return url();
        }
        if (relay == null) {
            relay = RepositoryServer.relay(this::fetch);
        }
        return relay.uri();
    }

    /** A small file's bytes (repomd.xml, its signature, the public key); empty when the server answers 404. */
    public Optional<byte[]> read(String path) {
        return http.get(path);
    }

    /**
     * Downloads {@code path} into a file of its own in the scratch folder (several downloads may run
     * at once); the caller deletes it when done, or leaves it to {@link #close}.
     */
    @Override
    public Optional<Path> fetch(String path) throws IOException {
        Path file = scratch.resolve(UUID.randomUUID() + "-" + path.substring(path.lastIndexOf('/') + 1));
        return http.download(path, file) ? Optional.of(file) : Optional.empty();
    }

    /** A folder of the scratch area for other work of the check (a dnf install root). */
    public Path scratch(String name) throws IOException {
        return Files.createDirectories(scratch.resolve(name));
    }

    @Override
    public void close() {
        if (relay != null) {
            relay.close(); // before the scratch folder it downloads into goes
        }
        try {
            DirectoryRepository.deleteTree(scratch);
        } catch (UncheckedIOException e) {
            // a scratch folder left behind in the cache only
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }
}
