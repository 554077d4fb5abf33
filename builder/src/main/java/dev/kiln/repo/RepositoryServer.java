package dev.kiln.repo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.KilnException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves a {@link DirectoryRepository} read-only over HTTP (GET and HEAD). Each request resolves
 * the repository afresh, so a publish that swaps in new metadata is seen by the next request.
 * Paths are confined to the repository folder, and its bookkeeping (dot files and folders) is not
 * served. Packages are never removed and the live metadata folder keeps the files of the
 * {@code repomd.xml} it replaced (see {@link DirectoryRepository}), so a client that fetched
 * {@code repomd.xml} before a publish still gets every file it names after it.
 */
public final class RepositoryServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;
    private final URI uri;

    private RepositoryServer(HttpServer server, ExecutorService executor, URI uri) {
        this.server = server;
        this.executor = executor;
        this.uri = uri;
    }

    /**
     * Starts serving {@code location} on {@code bindHost:port}; port 0 picks a free port.
     *
     * @throws KilnException BAD_INPUT when the port is taken or the host cannot be bound
     */
    public static RepositoryServer start(Path location, String bindHost, int port) {
        DirectoryRepository repository = new DirectoryRepository(location);
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(bindHost, port), 64);
        } catch (BindException e) {
            throw KilnException.badInput("cannot serve on " + bindHost + ":" + port + " (" + e.getMessage() + "): choose another port");
        } catch (IOException e) {
            throw new KilnException(KilnException.BAD_INPUT, "cannot serve on " + bindHost + ":" + port + ": " + e.getMessage(), e);
        }
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(repository, exchange));
        server.start();
        InetSocketAddress bound = server.getAddress();
        String host = bound.getAddress().isAnyLocalAddress() ? "localhost" : bound.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return new RepositoryServer(server, executor, URI.create("http://" + host + ":" + bound.getPort() + "/"));
    }

    /** The base URL of the repository, ending in {@code /}. */
    public URI uri() {
        return uri;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.close();
    }

    private static void handle(DirectoryRepository repository, HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            boolean head = method.equals("HEAD");
            if (!head && !method.equals("GET")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            Path file = resolve(root(repository), exchange.getRequestURI().getRawPath());
            if (file == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
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
