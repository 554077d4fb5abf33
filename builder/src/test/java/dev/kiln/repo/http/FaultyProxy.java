package dev.kiln.repo.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

/**
 * A proxy on loopback in front of a real server that fails some requests on purpose: answers a
 * status of its own (503, 500) for the requests a rule picks by their number, or, for the requests
 * {@link #plan} picks by method and path, one planned fault each in turn (a status, a stall past
 * the client's read timeout, a dropped connection), counting each. Everything else is passed
 * through unchanged.
 */
final class FaultyProxy implements AutoCloseable {

    private static final Set<String> HOP = Set.of("connection", "content-length", "host", "transfer-encoding", "expect", "upgrade");

    private final HttpServer server;
    private final URI upstream;
    private final HttpClient client = HttpClient.newHttpClient();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    volatile IntPredicate fails = n -> false;
    volatile String failMethod = null;
    volatile int failStatus = 503;

    /** What a planned fault does to the request it is given. */
    enum Fault {
        /** answers 503 of its own */
        UNAVAILABLE,
        /** answers nothing for {@link #STALL_FOR}, then closes the connection */
        STALL,
        /** closes the connection without an answer */
        DROP,
        /** answers the real headers and half the body, then nothing for {@link #STALL_MIDWAY_FOR}, then closes */
        STALL_MIDWAY
    }

    static final java.time.Duration STALL_MIDWAY_FOR = java.time.Duration.ofSeconds(60);

    static final java.time.Duration STALL_FOR = java.time.Duration.ofSeconds(5);
    private final java.util.Queue<Fault> planned = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile String plannedMethod = "";
    private volatile java.util.function.Predicate<String> plannedPath = p -> false;
    private final java.util.Map<Fault, AtomicInteger> hits = new java.util.concurrent.ConcurrentHashMap<>();

    FaultyProxy(URI upstream) throws IOException {
        this.upstream = upstream;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool()); // a stalled request holds its thread
        server.start();
    }

    /** The same path as {@code upstream}, through the proxy. */
    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + upstream.getRawPath());
    }

    /** Gives each request with {@code method} whose path {@code path} accepts the next of {@code faults}, until none is left. */
    void plan(String method, java.util.function.Predicate<String> path, Fault... faults) {
        plannedMethod = method;
        plannedPath = path;
        planned.clear();
        planned.addAll(List.of(faults));
    }

    /** How many requests {@code fault} was done to. */
    int hits(Fault fault) {
        return hits.computeIfAbsent(fault, f -> new AtomicInteger()).get();
    }

    private void stallMidway(HttpExchange exchange) throws IOException {
        try {
            URI target = URI.create("http://" + upstream.getAuthority() + exchange.getRequestURI().getRawPath());
            byte[] out = client.send(HttpRequest.newBuilder(target).GET().build(), HttpResponse.BodyHandlers.ofByteArray()).body();
            exchange.sendResponseHeaders(200, out.length);
            exchange.getResponseBody().write(out, 0, out.length / 2);
            exchange.getResponseBody().flush();
            Thread.sleep(STALL_MIDWAY_FOR.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the client gave up and closed the connection, as it should
        } finally {
            exchange.close();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        int n = requests.incrementAndGet();
        byte[] body = exchange.getRequestBody().readAllBytes();
        String method = exchange.getRequestMethod();
        if (method.equals(plannedMethod) && plannedPath.test(exchange.getRequestURI().getPath())) {
            Fault fault = planned.poll();
            if (fault != null) {
                hits.computeIfAbsent(fault, f -> new AtomicInteger()).incrementAndGet();
                switch (fault) {
                    case UNAVAILABLE -> exchange.sendResponseHeaders(503, -1);
                    case STALL -> {
                        try {
                            Thread.sleep(STALL_FOR.toMillis());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    case DROP -> {
                        // closed before any answer: the client sees the connection end
                    }
                    case STALL_MIDWAY -> {
                        stallMidway(exchange);
                        return;
                    }
                }
                exchange.close();
                return;
            }
        }
        if ((failMethod == null || failMethod.equals(method)) && fails.test(n)) {
            failed.incrementAndGet();
            exchange.sendResponseHeaders(failStatus, -1);
            exchange.close();
            return;
        }
        URI target = URI.create("http://" + upstream.getAuthority() + exchange.getRequestURI().getRawPath()
                + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery()));
        HttpRequest.Builder request = HttpRequest.newBuilder(target).method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        exchange.getRequestHeaders().forEach((k, values) -> {
            if (!HOP.contains(k.toLowerCase(java.util.Locale.ROOT))) {
                String v = values.getFirst();
                if (k.equalsIgnoreCase("Destination")) {
                    v = v.replace(url().getAuthority(), upstream.getAuthority()); // WebDAV names the destination by URL
                }
                request.header(k, v);
            }
        });
        try {
            HttpResponse<byte[]> response = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            response.headers().map().forEach((k, values) -> {
                if (!HOP.contains(k.toLowerCase(java.util.Locale.ROOT)) && !k.equals(":status")) {
                    exchange.getResponseHeaders().put(k, values);
                }
            });
            byte[] out = response.body();
            exchange.sendResponseHeaders(response.statusCode(), method.equals("HEAD") || out.length == 0 ? -1 : out.length);
            if (!method.equals("HEAD") && out.length > 0) {
                exchange.getResponseBody().write(out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exchange.sendResponseHeaders(502, -1);
        } finally {
            exchange.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
