package dev.kiln.repo;

import com.sun.net.httpserver.HttpExchange;
import dev.kiln.KilnException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Serves a {@link DirectoryRepository} read-only over HTTP (GET and HEAD). Each request resolves
 * the repository afresh, so a publish that swaps in new metadata is seen by the next request.
 * Paths are confined to the repository folder, and its bookkeeping (dot files and folders) is not
 * served. Packages are never removed and the live metadata folder keeps the files of the
 * {@code repomd.xml} it replaced (see {@link DirectoryRepository}), so a client that fetched
 * {@code repomd.xml} before a publish still gets every file it names after it.
 *
 * <p>{@link #relay} serves another repository the same way: a read-only relay on loopback in front
 * of a server that needs credentials, for another program (dnf) that must read it without being
 * given them. The credentials stay in this process, on no command line, in no repo file or
 * environment; the relay's base path is random, so another user of this machine cannot read
 * through it by guessing the port.
 */
public final class RepositoryServer implements AutoCloseable {

    private final dev.kiln.HttpListener listener;

    private RepositoryServer(dev.kiln.HttpListener listener) {
        this.listener = listener;
    }

    /** Where a request's file comes from. */
    interface Source {
        /** The file for {@code path} (below the base path, still URL-encoded), or null: 404. */
        Served find(String path) throws IOException;
    }

    /** A file to send; a temporary one is deleted once sent. */
    record Served(Path file, boolean temporary) {
    }

    /** Fetches one path of the repository into a file of its own, empty when the server has no such file. */
    interface Fetcher {
        java.util.Optional<Path> fetch(String path) throws IOException;
    }

    /**
     * Starts serving {@code location} on {@code bindHost:port}; port 0 picks a free port.
     *
     * @throws KilnException BAD_INPUT when the port is taken or the host cannot be bound
     */
    public static RepositoryServer start(Path location, String bindHost, int port) {
        DirectoryRepository repository = new DirectoryRepository(location);
        return serve(bindHost, port, "/", path -> {
            Path file = resolve(root(repository), path);
            return file == null ? null : new Served(file, false);
        });
    }

    /** Starts a relay on a free loopback port that answers each request with what {@code fetcher} fetches. */
    static RepositoryServer relay(Fetcher fetcher) {
        return serve("127.0.0.1", 0, "/" + java.util.UUID.randomUUID() + "/", rawPath -> {
            // the fetcher encodes each segment itself
            String path = URLDecoder.decode(rawPath.replace("+", "%2B"), StandardCharsets.UTF_8);
            if (path.isEmpty() || path.contains("..") || path.startsWith("/") || path.indexOf('\0') >= 0 || path.contains("?")) {
                return null;
            }
            return fetcher.fetch(path).map(file -> new Served(file, true)).orElse(null);
        });
    }

    private static RepositoryServer serve(String bindHost, int port, String basePath, Source source) {
        return new RepositoryServer(dev.kiln.HttpListener.start(bindHost, port, basePath, java.util.Map.of(basePath,
                exchange -> handle(source, exchange.getRequestURI().getRawPath().substring(basePath.length()), exchange))));
    }

    /** The base URL of the repository, ending in {@code /}. */
    public URI uri() {
        return listener.uri();
    }

    @Override
    public void close() {
        listener.close();
    }

    private static void handle(Source source, String path, HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            boolean head = method.equals("HEAD");
            if (!head && !method.equals("GET")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            Served served;
            try {
                served = source.find(path);
            } catch (IOException | RuntimeException e) {
                // the server behind a relay refused or failed: the client sees a server error and says so in its own words
                exchange.sendResponseHeaders(502, -1);
                return;
            }
            if (served == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            Path file = served.file();
            // Open before sizing, so the bytes and the length come from the same file even if a publish prunes meanwhile.
            try (InputStream in = Files.newInputStream(file)) {
                long length = Files.size(file);
                exchange.getResponseHeaders().set("Content-Type", contentType(file.getFileName().toString()));
                if (head) {
                    exchange.getResponseHeaders().set("Content-Length", Long.toString(length));
                    exchange.sendResponseHeaders(200, -1);
                    return;
                }
                exchange.sendResponseHeaders(200, length == 0 ? -1 : length);
                try (OutputStream out = exchange.getResponseBody()) {
                    in.transferTo(out);
                }
            } catch (java.nio.file.NoSuchFileException e) {
                exchange.sendResponseHeaders(404, -1);
            } finally {
                if (served.temporary()) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    /** The live repository folder, or null when there is none or it is not Kiln's (nothing to serve). */
    private static Path root(DirectoryRepository repository) {
        try {
            DirectoryRepository.Live live = repository.live();
            return live == null ? null : live.root();
        } catch (KilnException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    /** The regular file the request names inside {@code root}, or null. */
    static Path resolve(Path root, String rawPath) {
        if (root == null || rawPath == null) {
            return null;
        }
        String path = URLDecoder.decode(rawPath.replace("+", "%2B"), StandardCharsets.UTF_8);
        if (path.indexOf('\0') >= 0 || path.contains("\\")) {
            return null;
        }
        Path file = root.resolve(path.replaceFirst("^/+", "")).normalize();
        if (!file.startsWith(root)) {
            return null;
        }
        for (Path part : root.relativize(file)) {
            if (part.toString().startsWith(".")) {
                // The repository's own bookkeeping (leases, retained-metadata record, files being written) is not content.
                return null;
            }
        }
        try {
            // Follows any symlink inside the snapshot and checks the real target is still inside it.
            Path real = file.toRealPath();
            return real.startsWith(root) && Files.isRegularFile(real) ? real : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String contentType(String name) {
        if (name.endsWith(".xml")) {
            return "application/xml";
        }
        if (name.endsWith(".gz")) {
            return "application/gzip";
        }
        if (name.endsWith(".rpm")) {
            return "application/x-rpm";
        }
        if (name.endsWith(".asc") || name.startsWith("RPM-GPG-KEY")) {
            return "text/plain";
        }
        return "application/octet-stream";
    }
}
