package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.KilnProject;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The service's {@code /metrics} scraped by the real Prometheus (Debian's {@code prometheus}) with the
 * shipped alert rules loaded; what it stored is what was recorded, {@code promtool check metrics}
 * finds nothing to lint in the served text, every query of the shipped dashboard runs on the real
 * server, and {@code promtool test rules} passes on the shipped rules' test.
 */
class ServiceMetricsIT {

    static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    static final Path RULES = KilnProject.SOURCE_ROOT.resolve("deploy/prometheus/kiln-service-rules.yml");
    static final Path RULES_TEST = KilnProject.SOURCE_ROOT.resolve("deploy/prometheus/kiln-service-rules.test.yml");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void prometheusScrapesWhatWasRecordedAndTheShippedRulesAndDashboardHoldOnIt() throws Exception {
        assumeTrue(Files.isExecutable(PROMETHEUS) && Files.isExecutable(PROMTOOL),
                "prometheus and promtool are not installed (ci/test installs the prometheus package)");
        ServiceMetrics metrics = new ServiceMetrics();
        metrics.gauges(() -> 3, () -> 2);
        for (int i = 0; i < 5; i++) {
            metrics.buildQueued();
            metrics.buildStarted(Duration.ofMillis(200 + 400 * i));
        }
        metrics.buildFinished("succeeded", Duration.ofSeconds(75));
        metrics.buildFinished("succeeded", Duration.ofSeconds(40));
        metrics.buildFinished("failed", Duration.ofSeconds(8));
        metrics.publishFailed("company");
        metrics.canaryResult("company", true);
        metrics.canaryResult("mirror", false);

        try (ServiceDatabase db = ServiceDatabase.embedded(dir.resolve("service"));
                ApiServer server = ApiServer.start("127.0.0.1", 0, new TokenStore(db, Clock.systemUTC()), List::of, metrics,
                        Clock.systemUTC())) {
            URI target = server.uri();
            HttpResponse<String> scraped = http.send(HttpRequest.newBuilder(target.resolve("metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(scraped.statusCode()).as("no token needed").isEqualTo(200);
            assertThat(scraped.headers().firstValue("Content-Type")).hasValue(metrics.contentType());
            assertThat(http.send(HttpRequest.newBuilder(target.resolve("metrics")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(405);
            assertThat(http.send(HttpRequest.newBuilder(target.resolve("api/v1/whoami")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).as("the API still wants a token").isEqualTo(401);

            Run lint = run(scraped.body(), PROMTOOL.toString(), "check", "metrics");
            assertThat(lint.exitCode()).as(lint.output()).isZero();
            assertThat(lint.output()).as("promtool's lint").isBlank();

            try (PrometheusServer prometheus = PrometheusServer.start(dir.resolve("prometheus"), target)) {
                long started = System.nanoTime();
                JsonNode builds = prometheus.awaitResult("kiln_builds_total", result -> result.size() == 4, Duration.ofSeconds(20));
                System.out.println("Prometheus had the service's metrics " + (System.nanoTime() - started) / 1_000_000
                        + " ms after it started");
                Map<String, Double> byOutcome = new TreeMap<>();
                for (JsonNode sample : builds) {
                    assertThat(sample.get("metric").get("job").asString()).isEqualTo("kiln-service");
                    byOutcome.put(sample.get("metric").get("outcome").asString(), sample.get("value").get(1).asDouble());
                }
                assertThat(byOutcome).isEqualTo(Map.of("succeeded", 2.0, "failed", 1.0, "cancelled", 0.0, "interrupted", 0.0));
                assertThat(prometheus.scalar("kiln_queue_depth")).isEqualTo(3);
                assertThat(prometheus.scalar("kiln_builds_running")).isEqualTo(2);
                assertThat(prometheus.scalar("kiln_builds_queued_total")).isEqualTo(5);
                assertThat(prometheus.scalar("kiln_build_queue_wait_seconds_count")).isEqualTo(5);
                assertThat(prometheus.scalar("kiln_build_queue_wait_seconds_sum")).isCloseTo(5 * 0.2 + 0.4 * 10, within());
                assertThat(prometheus.scalar("kiln_build_duration_seconds_bucket{le=\"60.0\"}")).isEqualTo(2);
                assertThat(prometheus.scalar("kiln_build_duration_seconds_bucket{le=\"+Inf\"}")).isEqualTo(3);
                assertThat(prometheus.scalar("kiln_publish_failures_total{target=\"company\"}")).isEqualTo(1);
                assertThat(prometheus.scalar("kiln_canary_checks_total{target=\"mirror\",result=\"failed\"}")).isEqualTo(1);
                assertThat(prometheus.scalar("up{job=\"kiln-service\"}")).isEqualTo(1);

                // the shipped rules loaded, and not one fires on a healthy service
                JsonNode rules = prometheus.api("rules").get("data").get("groups").get(0).get("rules");
                assertThat(rules).extracting(rule -> rule.get("name").asString())
                        .containsExactly("KilnQueueStuck", "KilnBuildFailureRate", "KilnServiceDown", "KilnPublishFailed", "KilnCanaryFailing");
                assertThat(rules).allSatisfy(rule -> {
                    assertThat(rule.get("health").asString()).as(rule.get("name").asString()).isIn("ok", "unknown");
                    assertThat(rule.get("state").asString()).as(rule.get("name").asString()).isEqualTo("inactive");
                });

                // every query of the dashboard is one the real server accepts
                JsonNode dashboard = json.readTree(Files.readString(ServiceMetricsTest.DASHBOARD));
                for (JsonNode panel : dashboard.get("panels")) {
                    for (JsonNode query : panel.get("targets")) {
                        String expr = query.get("expr").asString().replace("$instance", ".*").replace("$__rate_interval", "1m");
                        assertThat(prometheus.query(expr).get("status").asString()).as(expr).isEqualTo("success");
                    }
                }
            }
        }

        Run rules = run("", PROMTOOL.toString(), "check", "rules", RULES.toString());
        assertThat(rules.exitCode()).as(rules.output()).isZero();
        Run rulesTest = run("", PROMTOOL.toString(), "test", "rules", RULES_TEST.toString());
        assertThat(rulesTest.exitCode()).as(rulesTest.output()).isZero();
        assertThat(rulesTest.output()).contains("SUCCESS");
    }

    private static org.assertj.core.data.Offset<Double> within() {
        return org.assertj.core.data.Offset.offset(1e-9);
    }

    /** A real Prometheus on a free loopback port, scraping one service every second; stopped on close. */
    private static final class PrometheusServer implements AutoCloseable {

        private final Process process;
        private final URI api;
        private final Path log;
        private final HttpClient http = HttpClient.newHttpClient();
        private final JsonMapper json = JsonMapper.builder().build();

        private PrometheusServer(Process process, URI api, Path log) {
            this.process = process;
            this.api = api;
            this.log = log;
        }

        static PrometheusServer start(Path dir, URI target) throws IOException {
            Files.createDirectories(dir);
            Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    rule_files:
                      - %s
                    scrape_configs:
                      - job_name: kiln-service
                        static_configs:
                          - targets: ['%s']
                    """.formatted(RULES, target.getAuthority()));
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = socket.getLocalPort();
            }
            Path log = dir.resolve("prometheus.log");
            Process process = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            return new PrometheusServer(process, URI.create("http://127.0.0.1:" + port + "/api/v1/"), log);
        }

        /** Polls an instant query until its result satisfies {@code done}; fails with Prometheus' log after {@code timeout}. */
        JsonNode awaitResult(String query, java.util.function.Predicate<JsonNode> done, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            JsonNode last = null;
            while (System.nanoTime() < deadline) {
                assertThat(process.isAlive()).as("prometheus runs: " + Files.readString(log)).isTrue();
                try {
                    last = query(query);
                    JsonNode result = last.get("data").get("result");
                    if (done.test(result)) {
                        return result;
                    }
                } catch (IOException e) {
                    last = null; // not listening yet
                }
                Thread.sleep(200);
            }
            throw new AssertionError("no answer to " + query + " within " + timeout + "; last " + last + "\n" + Files.readString(log));
        }

        /** The value of a query that has exactly one sample. */
        double scalar(String query) throws Exception {
            JsonNode result = query(query).get("data").get("result");
            assertThat(result).as(query).hasSize(1);
            return result.get(0).get("value").get(1).asDouble();
        }

        JsonNode query(String query) throws IOException, InterruptedException {
            return api("query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
        }

        JsonNode api(String path) throws IOException, InterruptedException {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(api.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
            return json.readTree(response.body());
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private record Run(int exitCode, String output) {
    }

    /** Runs {@code command} with {@code input} on its stdin, stdout and stderr together. */
    private static Run run(String input, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", command)).isTrue();
        return new Run(process.exitValue(), output);
    }
}
