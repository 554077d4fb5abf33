package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Delivery to a real HTTP server on loopback: the document, its signature, and the tries after failures. */
class BuildNotifierTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");

    private static ServiceBuild ended(ServiceBuild.State state, int exit, String message) {
        return new ServiceBuild(7, List.of(), Optional.of("6113728f27ae82c7b1a177c8d03f9e96e0adf246"),
                "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", ServiceBuild.Mode.PUBLISH,
                false, "github:octocat", state, 1, T0, Optional.of(T0.plusSeconds(2)), Optional.of(T0.plusMillis(14_500)),
                Optional.of(exit), Optional.ofNullable(message),
                Optional.of("{\"ok\":true,\"builds\":[{\"package\":\"hello\",\"status\":\"built\"}]}"), Optional.empty());
    }

    private record Delivery(String signature, byte[] body) {
    }

    @Test
    void deliversTheSignedDocumentAfterAFailedTry() throws Exception {
        BlockingQueue<Delivery> received = new LinkedBlockingQueue<>();
        AtomicInteger tries = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/hook", exchange -> {
            try (exchange) {
                byte[] body = exchange.getRequestBody().readAllBytes();
                if (tries.incrementAndGet() == 1) {
                    exchange.sendResponseHeaders(502, -1); // a proxy whose upstream is restarting
                    return;
                }
                received.add(new Delivery(exchange.getRequestHeaders().getFirst(BuildNotifier.SIGNATURE), body));
                exchange.sendResponseHeaders(204, -1);
            }
        });
        server.start();
        try {
            URI target = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook?token=abc");
            BuildNotifier notifier = new BuildNotifier(target, Optional.of("n0tify"), () -> Optional.of(URI.create("http://kiln.test:8470/")),
                    Duration.ofMillis(50));
            long before = System.nanoTime();
            notifier.accept(ended(ServiceBuild.State.SUCCEEDED, 0, null));
            assertThat(System.nanoTime() - before).as("accept returns at once").isLessThan(Duration.ofMillis(500).toNanos());
            Delivery d = received.poll(10, TimeUnit.SECONDS);
            assertThat(d).as("delivered on the second try").isNotNull();
            assertThat(tries.get()).isEqualTo(2);
            assertThat(WebhookSignature.signs(d.signature(), "n0tify", d.body())).isTrue();
            JsonNode doc = JSON.readTree(d.body());
            assertThat(doc.get("id").asLong()).isEqualTo(7);
            assertThat(doc.get("packages").toString()).isEqualTo("[\"hello\"]");
            assertThat(doc.get("mode").asString()).isEqualTo("publish");
            assertThat(doc.get("submitter").asString()).isEqualTo("github:octocat");
            assertThat(doc.get("state").asString()).isEqualTo("succeeded");
            assertThat(doc.get("exitCode").asInt()).isZero();
            assertThat(doc.get("durationMillis").asLong()).isEqualTo(12_500);
            assertThat(doc.get("commit").asString()).isEqualTo("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
            assertThat(doc.get("url").asString()).isEqualTo("http://kiln.test:8470/api/v1/builds/7");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void givesUpAfterThreeTries() throws Exception {
        AtomicInteger tries = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                tries.incrementAndGet();
                exchange.sendResponseHeaders(500, -1);
            }
        });
        server.start();
        try {
            BuildNotifier notifier = new BuildNotifier(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"),
                    Optional.empty(), Optional::empty, Duration.ofMillis(20));
            notifier.accept(ended(ServiceBuild.State.FAILED, 4, "hello: rpmbuild failed"));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (tries.get() < BuildNotifier.TRIES && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(300); // time for a fourth try, which must not come
            assertThat(tries.get()).isEqualTo(BuildNotifier.TRIES);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void showsTheUrlWithoutItsQueryOrUser() {
        assertThat(BuildNotifier.shown(URI.create("https://ci.example.com:8443/hooks/kiln?token=s3cret")))
                .isEqualTo("https://ci.example.com:8443/hooks/kiln");
        assertThat(BuildNotifier.shown(URI.create("http://bot:pw@ci.example.com/k"))).isEqualTo("http://ci.example.com/k");
    }

    @Test
    void aBuildOfNamedPackagesNamesThem() {
        ServiceBuild b = ended(ServiceBuild.State.CANCELLED, 4, "cancelled by pat");
        ServiceBuild named = new ServiceBuild(b.id(), List.of("hello", "tools"), Optional.empty(), "main", b.commit(), ServiceBuild.Mode.SCRATCH,
                false, "pat", b.state(), 1, T0, Optional.empty(), Optional.of(T0), b.exitCode(), b.message(), Optional.empty(),
                Optional.empty());
        Map<String, Object> doc = BuildNotifier.document(named, Optional.empty());
        assertThat(doc).containsEntry("packages", List.of("hello", "tools")).containsEntry("state", "cancelled")
                .containsEntry("message", "cancelled by pat").containsEntry("durationMillis", null).containsEntry("url", null);
    }
}
