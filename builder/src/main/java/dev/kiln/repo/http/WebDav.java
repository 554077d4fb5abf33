package dev.kiln.repo.http;

import dev.kiln.KilnException;
import dev.kiln.config.TargetConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The HTTP and WebDAV requests a server target needs (GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE,
 * PROPFIND), relative to the target's base URL, each retried with backoff when the server answers
 * 5xx or the connection fails, and each failure turned into one line that names the target, the
 * request and what to do. Credentials go into a header, never into a message.
 */
public final class WebDav {

    /** How many times a request is sent before its failure is reported. */
    static final int ATTEMPTS = 5;
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Pattern HREF = Pattern.compile("<(?:[A-Za-z0-9]+:)?href>([^<]+)</(?:[A-Za-z0-9]+:)?href>");

    private final TargetConfig target;
    private final URI base;
    private final Optional<Credentials> credentials;
    private final HttpClient client;
    private final Duration requestTimeout;

    public WebDav(TargetConfig target, Optional<Credentials> credentials, HttpClient client, Duration requestTimeout) {
        this.target = target;
        this.base = target.url().orElseThrow();
        this.credentials = credentials;
        this.client = client;
        this.requestTimeout = requestTimeout;
    }

    public URI base() {
        return base;
    }

    /** The absolute URL of {@code path} (relative, {@code /}-separated, each segment encoded). */
    public URI uri(String path) {
        String query = "";
        int q = path.indexOf('?');
        if (q >= 0) {
            query = path.substring(q);
            path = path.substring(0, q);
        }
        StringBuilder encoded = new StringBuilder();
        for (String segment : path.split("/", -1)) {
            if (!encoded.isEmpty()) {
                encoded.append('/');
            }
            encoded.append(encodeSegment(segment));
        }
        return base.resolve(encoded + query);
    }

    private static String encodeSegment(String segment) {
        StringBuilder out = new StringBuilder();
        for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~+".indexOf(c) >= 0) {
                out.append((char) c);
            } else {
                out.append('%').append(String.format("%02X", c));
            }
        }
        return out.toString();
    }

    /** The body of {@code path}, or empty when it does not exist. */
    public Optional<byte[]> get(String path) {
        HttpResponse<byte[]> r = send("GET", path, HttpRequest.BodyPublishers.noBody(), HttpResponse.BodyHandlers.ofByteArray(), List.of());
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        expect(r, "GET", path, 200);
        return Optional.of(r.body());
    }

    /** Downloads {@code path} into {@code file} (through a temporary file beside it); false when it does not exist. */
    public boolean download(String path, Path file) {
        Path temp = file.resolveSibling("." + file.getFileName() + ".download");
        try {
            Files.createDirectories(file.getParent());
            HttpResponse<Path> r = send("GET", path, HttpRequest.BodyPublishers.noBody(), HttpResponse.BodyHandlers.ofFile(temp), List.of());
            if (r.statusCode() == 404) {
                return false;
            }
            expect(r, "GET", path, 200);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return true;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                // a stray temporary file in the cache only
            }
        }
    }

    /** Whether {@code path} exists. */
    public boolean exists(String path) {
        HttpResponse<Void> r = send("HEAD", path, HttpRequest.BodyPublishers.noBody(), HttpResponse.BodyHandlers.discarding(), List.of());
        if (r.statusCode() == 404) {
            return false;
        }
        expect(r, "HEAD", path, 200);
        return true;
    }

    /** Writes {@code file} to {@code path}, replacing what is there. */
    public void put(String path, Path file) {
        HttpResponse<String> r = send("PUT", path, publisher(file), HttpResponse.BodyHandlers.ofString(), List.of());
        expect(r, "PUT", path, 200, 201, 204);
    }

    public void put(String path, byte[] content) {
        HttpResponse<String> r = send("PUT", path, HttpRequest.BodyPublishers.ofByteArray(content), HttpResponse.BodyHandlers.ofString(), List.of());
        expect(r, "PUT", path, 200, 201, 204);
    }

    private static HttpRequest.BodyPublisher publisher(Path file) {
        try {
            return HttpRequest.BodyPublishers.ofFile(file);
        } catch (java.io.FileNotFoundException e) {
            throw KilnException.badInput("no file at " + file + ": check the path");
        }
    }

    /**
     * PUT with extra headers, answering the status instead of judging it (repository managers give
     * statuses their own meaning: 404 to a deploy by checksum means "send the bytes").
     */
    public HttpResponse<String> putWith(String path, HttpRequest.BodyPublisher body, List<String> headers) {
        return send("PUT", path, body, HttpResponse.BodyHandlers.ofString(), headers);
    }

    /** POST with an empty body to {@code path?query}; the response is judged by the caller. */
    public HttpResponse<String> post(String path, String query) {
        return send("POST", path + (query.isEmpty() ? "" : "?" + query), HttpRequest.BodyPublishers.noBody(),
                HttpResponse.BodyHandlers.ofString(), List.of());
    }

    /** Fails with one line naming the target and the request unless {@code r} has one of {@code statuses}. */
    public void check(HttpResponse<?> r, String method, String path, int... statuses) {
        expect(r, method, path, statuses);
    }

    /** A request body from a file (streamed, and sent again on a retry). */
    public static HttpRequest.BodyPublisher body(Path file) {
        return publisher(file);
    }

    /** Removes {@code path} (a file or a collection with everything in it); nothing happens when it is gone already. */
    public void delete(String path) {
        HttpResponse<String> r = send("DELETE", path, HttpRequest.BodyPublishers.noBody(), HttpResponse.BodyHandlers.ofString(), List.of());
        if (r.statusCode() != 404) {
            expect(r, "DELETE", path, 200, 202, 204);
        }
    }

    /** Makes collection {@code path} (ending in {@code /}); nothing happens when it exists. */
    public void mkcol(String path) {
        HttpResponse<String> r = send("MKCOL", path, HttpRequest.BodyPublishers.noBody(), HttpResponse.BodyHandlers.ofString(), List.of());
        if (r.statusCode() != 405) { // 405: it exists
            expect(r, "MKCOL", path, 200, 201);
        }
    }

    /**
     * Renames {@code from} to {@code to} on the server, one atomic step on one file system.
     *
     * @param overwrite false for a create-only rename, which fails (false) when {@code to} exists
     * @return false when {@code overwrite} is false and {@code to} exists
     */
    public boolean move(String from, String to, boolean overwrite) {
        return transfer("MOVE", from, to, overwrite);
    }

    /** A create-only rename: true when done, false when {@code to} exists or {@code from} is gone (404). */
    public boolean moveIfAbsent(String from, String to) {
        List<String> headers = List.of("Destination", uri(to).toString(), "Overwrite", "F");
        HttpResponse<String> r = send("MOVE", from, HttpRequest.BodyPublishers.noBody(), HttpResponse.BodyHandlers.ofString(), headers);
        if (r.statusCode() == 412 || r.statusCode() == 404) {
            return false;
        }
        expect(r, "MOVE", from, 201, 204);
        return true;
    }

    /** Copies {@code from} to {@code to} on the server, replacing what is there. */
    public void copy(String from, String to) {
        transfer("COPY", from, to, true);
    }

    private boolean transfer(String method, String from, String to, boolean overwrite) {
        List<String> headers = List.of("Destination", uri(to).toString(), "Overwrite", overwrite ? "T" : "F",
                "Depth", "infinity");
        HttpResponse<String> r = send(method, from, HttpRequest.BodyPublishers.noBody(), HttpResponse.BodyHandlers.ofString(), headers);
        if (!overwrite && r.statusCode() == 412) {
            return false;
        }
        expect(r, method, from, 201, 204);
        return true;
    }

    /** The names of what collection {@code path} (ending in {@code /}) holds; empty when it does not exist. */
    public List<String> list(String path) {
        String body = """
                <?xml version="1.0" encoding="utf-8"?>
                <propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>
                """;
        HttpResponse<String> r = send("PROPFIND", path, HttpRequest.BodyPublishers.ofString(body), HttpResponse.BodyHandlers.ofString(),
                List.of("Depth", "1", "Content-Type", "application/xml"));
        if (r.statusCode() == 404) {
            return List.of();
        }
        expect(r, "PROPFIND", path, 207);
        String self = uri(path).getRawPath();
        List<String> names = new ArrayList<>();
        Matcher m = HREF.matcher(r.body());
        while (m.find()) {
            String href = m.group(1).trim();
            String rawPath = href.startsWith("http") ? URI.create(href).getRawPath() : href;
            if (rawPath.equals(self) || rawPath.equals(self + "/") || !rawPath.startsWith(self)) {
                continue;
            }
            String name = URLDecoder.decode(rawPath.substring(self.length()).replace("+", "%2B"), StandardCharsets.UTF_8);
            names.add(name.endsWith("/") ? name.substring(0, name.length() - 1) : name);
        }
        return names;
    }

    private <T> HttpResponse<T> send(String method, String path, HttpRequest.BodyPublisher body, HttpResponse.BodyHandler<T> handler,
            List<String> headers) {
        URI uri = uri(path);
        Duration backoff = FIRST_BACKOFF;
        long started = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(requestTimeout).method(method, body);
            for (int i = 0; i + 1 < headers.size(); i += 2) {
                request.header(headers.get(i), headers.get(i + 1));
            }
            credentials.ifPresent(c -> request.header("Authorization", c.authorization()));
            String failure;
            try {
                HttpResponse<T> response = client.send(request.build(), idleLimited(handler, requestTimeout));
                int status = response.statusCode();
                if (status == 401) {
                    throw KilnException.environment("target " + target.name() + " refused " + method + " " + uri
                            + " with 401 Unauthorized" + credentials.map(c -> " for the credentials from " + c.origin()).orElse(
                                    " (no credentials were sent)") + ": set " + Credentials.prefix(target.name())
                            + "_USERNAME and _PASSWORD (or _TOKEN), or a netrc entry for " + uri.getHost());
                }
                if (status == 403) {
                    throw KilnException.environment("target " + target.name() + " forbids " + method + " " + uri + " (403 Forbidden)"
                            + credentials.map(c -> c.username().isEmpty() ? " for the token" : " for user " + c.username()).orElse("")
                            + ": give that account write access to the repository, or use another account");
                }
                if (status < 500 || status == 501 || status == 505) {
                    return response;
                }
                failure = "answered " + status;
            } catch (HttpTimeoutException e) {
                failure = (e.getMessage() != null && e.getMessage().startsWith(STALLED) ? "stalled mid-answer for " : "did not answer within ")
                        + requestTimeout.toSeconds() + " s";
            } catch (ConnectException e) {
                failure = "cannot be reached (" + (e.getMessage() == null ? "connection refused" : e.getMessage()) + ")";
            } catch (IOException e) {
                failure = "dropped the connection (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw KilnException.interrupted();
            }
            if (attempt >= ATTEMPTS) {
                long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
                throw KilnException.environment("target " + target.name() + " (" + base + ") " + failure + " to " + method + " "
                        + path + ", " + ATTEMPTS + " attempts in " + seconds + " s: check that the server is up and the URL is right");
            }
            try {
                Thread.sleep(backoff.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw KilnException.interrupted();
            }
            backoff = backoff.multipliedBy(2);
        }
    }

    private static final String STALLED = "stalled";
    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("kiln-http-idle").factory());

    /**
     * {@code handler}, failing the body with an {@link HttpTimeoutException} when no byte of it
     * arrives for {@code idle}. The client's own timeout ends with the response headers: a server
     * or proxy that stalls halfway through a body would otherwise hold the transfer for good.
     * Bodies of any size are fine, as long as they keep coming.
     */
    static <T> HttpResponse.BodyHandler<T> idleLimited(HttpResponse.BodyHandler<T> handler, Duration idle) {
        return info -> new IdleLimited<>(handler.apply(info), idle);
    }

    private static final class IdleLimited<T> implements HttpResponse.BodySubscriber<T> {
        private final HttpResponse.BodySubscriber<T> delegate;
        private final long idleNanos;
        private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile long last = System.nanoTime();
        private volatile java.util.concurrent.ScheduledFuture<?> watch;

        IdleLimited(HttpResponse.BodySubscriber<T> delegate, Duration idle) {
            this.delegate = delegate;
            this.idleNanos = idle.toNanos();
        }

        @Override
        public java.util.concurrent.CompletionStage<T> getBody() {
            return delegate.getBody();
        }

        @Override
        public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
            last = System.nanoTime();
            long period = Math.max(50, Math.min(1000, idleNanos / 4_000_000));
            watch = WATCHDOG.scheduleAtFixedRate(() -> {
                if (System.nanoTime() - last > idleNanos && ended.compareAndSet(false, true)) {
                    subscription.cancel();
                    delegate.onError(new HttpTimeoutException(STALLED + ": no data for " + idleNanos / 1_000_000 + " ms"));
                    watch.cancel(false);
                }
            }, period, period, java.util.concurrent.TimeUnit.MILLISECONDS);
            delegate.onSubscribe(subscription);
        }

        @Override
        public void onNext(List<java.nio.ByteBuffer> item) {
            last = System.nanoTime();
            if (!ended.get()) {
                delegate.onNext(item);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            if (ended.compareAndSet(false, true)) {
                stopWatching();
                delegate.onError(throwable);
            }
        }

        @Override
        public void onComplete() {
            if (ended.compareAndSet(false, true)) {
                stopWatching();
                delegate.onComplete();
            }
        }

        private void stopWatching() {
            java.util.concurrent.ScheduledFuture<?> w = watch;
            if (w != null) {
                w.cancel(false);
            }
        }
    }

    private void expect(HttpResponse<?> r, String method, String path, int... statuses) {
        for (int s : statuses) {
            if (r.statusCode() == s) {
                return;
            }
        }
        String body = r.body() instanceof String text ? text.strip().lines().findFirst().orElse("") : "";
        throw KilnException.environment("target " + target.name() + " answered " + r.statusCode() + " to " + method + " " + uri(path)
                + (body.isEmpty() ? "" : " (" + (body.length() > 200 ? body.substring(0, 200) + "..." : body) + ")")
                + ": check that the server allows " + method + " there and that the account may do it");
    }
}
