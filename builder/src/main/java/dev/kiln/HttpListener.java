package dev.kiln;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The JDK's HTTP server as Kiln's servers run it (the repository server, the service's API): bound
 * with one-line errors, a virtual thread per request, stopped on close.
 */
public final class HttpListener implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;
    private final URI uri;

    private HttpListener(HttpServer server, ExecutorService executor, URI uri) {
        this.server = server;
        this.executor = executor;
        this.uri = uri;
    }

    /**
     * Starts serving {@code contexts} (path prefix to handler) on {@code bindHost:port} (0: a free port).
     *
     * @param basePath the path {@link #uri()} ends with
     * @throws KilnException BAD_INPUT when the port is taken or the host cannot be bound
     */
    public static HttpListener start(String bindHost, int port, String basePath, Map<String, HttpHandler> contexts) {
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
        contexts.forEach(server::createContext);
        server.start();
        InetSocketAddress bound = server.getAddress();
        String host = bound.getAddress().isAnyLocalAddress() ? "localhost" : bound.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return new HttpListener(server, executor, URI.create("http://" + host + ":" + bound.getPort() + basePath));
    }

    /** The base URL ({@code localhost} for a server bound to every address), ending in the base path. */
    public URI uri() {
        return uri;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.close();
    }
}
