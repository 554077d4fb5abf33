package dev.kiln.repo.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.Sha256;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A recording stand-in for a repository manager, answering as the product's documentation says
 * (the real products cannot run here): Sonatype Nexus 3 yum hosted ({@code PUT /repository/<repo>/<path>},
 * metadata rebuilt by the server a moment after an upload, 400 "does not allow updating assets" when
 * the deployment policy forbids redeploying) or JFrog Artifactory ({@code PUT /artifactory/<repo>/<path>}
 * with {@code X-Checksum-Sha256}, deploy by checksum with {@code X-Checksum-Deploy: true} answering 404
 * for unknown content, {@code POST /artifactory/api/yum/<repo>?async=0} computing the metadata before it
 * answers). Both delete a file with {@code DELETE} on its path ({@code 204}, {@code 404} when absent); Nexus
 * rebuilds the metadata a moment later, Artifactory on the next {@code POST /api/yum}. The metadata itself is
 * made by the real createrepo_c. Writes need basic authentication.
 */
final class ManagerServer implements AutoCloseable {

    enum Product { NEXUS, ARTIFACTORY }

    /** One request as the server saw it. */
    record Request(String method, String path, Map<String, String> headers, int status) {
    }

    final Product product;
    final Path storage;
    final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final HttpServer server;
    private final ScheduledExecutorService indexer = Executors.newSingleThreadScheduledExecutor();
    private final String authorization;
    private final Map<String, Path> blobs = new HashMap<>();
    /** Nexus: how long after an upload the metadata is rebuilt; negative: never. */
    volatile long indexDelayMillis = 1500;

    private ManagerServer(Product product, Path storage, String user, String password) throws IOException {
        this.product = product;
        this.storage = Files.createDirectories(storage);
        this.authorization = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }

    static ManagerServer start(Product product, Path storage, String user, String password) throws IOException {
        return new ManagerServer(product, storage, user, password);
    }

    /** What kiln.yaml's url is for this product. */
    URI url() {
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        return URI.create(product == Product.NEXUS ? base + "/repository/rpm-hosted/" : base + "/artifactory/");
    }

    /** Where clients read the repository. */
    URI servedUrl() {
        return product == Product.NEXUS ? url() : url().resolve("rpm-local/");
    }

    private String prefix() {
        return product == Product.NEXUS ? "/repository/rpm-hosted/" : "/artifactory/rpm-local/";
    }

    /** Content Artifactory already holds under another path, found by checksum. */
    void seed(byte[] content) throws IOException {
        Path blob = storage.resolveSibling(storage.getFileName() + "-blobs").resolve(Sha256.hex(content));
        Files.createDirectories(blob.getParent());
        Files.write(blob, content);
        blobs.put(Sha256.hex(content), blob);
    }

    List<Request> requests(String method) {
        synchronized (requests) {
            return requests.stream().filter(r -> r.method().equals(method)).toList();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        Map<String, String> headers = new HashMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.getFirst()));
        int status;
        String body = "";
        try {
            boolean write = !method.equals("GET") && !method.equals("HEAD");
            if (write && !authorization.equals(headers.get("authorization"))) {
                status = 401;
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"" + product + "\"");
            } else if (method.equals("GET") || method.equals("HEAD")) {
                Path file = file(path);
                if (file != null && Files.isRegularFile(file)) {
                    byte[] content = Files.readAllBytes(file);
                    record(method, path, headers, 200);
                    exchange.sendResponseHeaders(200, method.equals("HEAD") ? -1 : content.length);
                    if (!method.equals("HEAD")) {
                        exchange.getResponseBody().write(content);
                    }
                    exchange.close();
                    return;
                }
                status = 404;
            } else if (method.equals("PUT") && file(path) != null) {
                Path file = file(path);
                byte[] content = exchange.getRequestBody().readAllBytes();
                if (product == Product.NEXUS) {
                    if (Files.exists(file)) {
                        status = 400;
                        body = "Repository does not allow updating assets: rpm-hosted";
                    } else {
                        store(file, content);
                        status = 201;
                        if (path.endsWith(".rpm") && indexDelayMillis >= 0) {
                            indexer.schedule(this::index, indexDelayMillis, TimeUnit.MILLISECONDS);
                        }
                    }
                } else if ("true".equals(headers.get("x-checksum-deploy"))) {
                    Path blob = blobs.get(headers.get("x-checksum-sha256"));
                    if (blob == null) {
                        status = 404;
                        body = "{\"errors\":[{\"status\":404,\"message\":\"Checksum deploy failed: no artifact with this checksum\"}]}";
                    } else {
                        store(file, Files.readAllBytes(blob));
                        status = 201;
                    }
                } else if (headers.containsKey("x-checksum-sha256") && !headers.get("x-checksum-sha256").equals(Sha256.hex(content))) {
                    status = 409;
                    body = "{\"errors\":[{\"status\":409,\"message\":\"Checksum policy: the SHA-256 sent does not match\"}]}";
                } else {
                    store(file, content);
                    blobs.put(Sha256.hex(content), file);
                    status = 201;
                }
            } else if (method.equals("DELETE") && file(path) != null) {
                if (Files.deleteIfExists(file(path))) {
                    status = 204;
                    if (product == Product.NEXUS && path.endsWith(".rpm") && indexDelayMillis >= 0) {
                        indexer.schedule(this::index, indexDelayMillis, TimeUnit.MILLISECONDS);
                    }
                } else {
                    status = 404;
                }
            } else if (method.equals("POST") && product == Product.ARTIFACTORY && path.equals("/artifactory/api/yum/rpm-local")
                    && "async=0".equals(exchange.getRequestURI().getQuery())) {
                index();
                status = 200;
            } else {
                status = 405;
            }
        } catch (RuntimeException e) {
            status = 500;
            body = e.toString();
        }
        record(method, exchange.getRequestURI().toString(), headers, status);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
        exchange.close();
    }

    private void record(String method, String path, Map<String, String> headers, int status) {
        requests.add(new Request(method, path, Map.copyOf(headers), status));
    }

    private Path file(String path) {
        if (!path.startsWith(prefix()) || path.contains("..")) {
            return null;
        }
        return storage.resolve(path.substring(prefix().length()));
    }

    private static void store(Path file, byte[] content) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, content);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Rebuilds the metadata with the real createrepo_c, as the product would. */
    private synchronized void index() {
        try {
            TestRpms.Run run = TestRpms.run("createrepo_c", "--quiet", "--no-database", "--update", storage.toString());
            if (run.exitCode() != 0) {
                throw new IllegalStateException(run.output());
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        indexer.shutdownNow();
    }
}
