package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.RunningService;
import dev.kiln.container.Orphans;
import dev.kiln.repo.http.NginxDav;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SyntheticRpms;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./kiln serve} through the real launcher: its API signs clients in with the tokens {@code kiln token}
 * makes, beside the running service, and refuses missing, unknown, revoked and expired ones; its
 * {@code /metrics} answers without one.
 */
class ServeCommandIT {

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void theApiAnswersValidTokensOnlyAndTokensMadeOrRevokedBesideTheRunningServiceCountAtOnce() throws Exception {
        KilnProject project = KilnProject.create(Files.createDirectories(dir.resolve("service")));
        RpmSigner vendor = new RpmSigner(KeyGenerator.generate(dir.resolve("v.asc"), dir.resolve("v.pub"), "V <v@example.com>",
                "pw".toCharArray()));
        KilnProject.Result published = project.run("repo", "publish", "--sign",
                SyntheticRpms.write(dir.resolve("rpms"), "served-pkg", "2.1", vendor).toString());
        assertThat(published.exitCode()).as(published.describe()).isZero();
        String ci = secret(project.run("token", "create", "ci", "--scope", "build", "--json"));

        // the canary checks the release target (the project's folder, served-pkg in it) every second
        RunningService serve = RunningService.start(project, Map.of("KILN_SERVICE_CANARY", "1s"), "--setup");
        try (serve) {
            JsonNode started = serve.started();
            URI base = serve.base();
            assertThat(base.getHost()).as("loopback unless told otherwise").isEqualTo("127.0.0.1");

            HttpResponse<String> openapi = get(base, "api/v1/openapi.json", null);
            assertThat(openapi.statusCode()).isEqualTo(200);
            JsonNode doc = json.readTree(openapi.body());
            assertThat(doc.get("openapi").asText()).startsWith("3.");
            assertThat(doc.get("paths").properties()).extracting(Map.Entry::getKey)
                    .contains("/api/v1/whoami", "/api/v1/packages");

            assertThat(started.get("metrics").asText()).isEqualTo(base.resolve("metrics").toString());
            HttpResponse<String> metrics = get(base, "metrics", null);
            assertThat(metrics.statusCode()).as("a scraper has no token").isEqualTo(200);
            assertThat(metrics.body()).contains("kiln_builds_total{outcome=\"succeeded\"} 0");

            HttpResponse<String> none = get(base, "api/v1/packages", null);
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
            assertThat(get(base, "api/v1/packages", "kiln_not-a-token").statusCode()).isEqualTo(401);

            HttpResponse<String> packages = get(base, "api/v1/packages", ci);
            assertThat(packages.statusCode()).as(packages.body()).isEqualTo(200);
            assertThat(json.readTree(packages.body()).get("packages").get(0).get("nevra").asText()).isEqualTo("served-pkg-2.1-1.noarch");
            assertThat(json.readTree(get(base, "api/v1/whoami", ci).body()).get("scope").asText()).isEqualTo("build");
            assertThat(get(base, "api/v1/whoami", ci).headers().firstValue(dev.kiln.service.ApiServer.TOKEN_WARNING)).isEmpty();

            // made and revoked by the CLI while the service holds the database
            String soon = secret(project.run("token", "create", "soon", "--scope", "admin", "--expires", "3d", "--json"));
            HttpResponse<String> warned = get(base, "api/v1/whoami", soon);
            assertThat(warned.statusCode()).isEqualTo(200);
            assertThat(warned.headers().firstValue(dev.kiln.service.ApiServer.TOKEN_WARNING)).hasValueSatisfying(v ->
                    assertThat(v).startsWith("token soon expires "));
            String brief = secret(project.run("token", "create", "brief", "--scope", "publish", "--expires", "2s", "--json"));
            KilnProject.Result revoked = project.run("token", "revoke", "ci");
            assertThat(revoked.exitCode()).as(revoked.describe()).isZero();
            assertThat(get(base, "api/v1/packages", ci).statusCode()).as("revoked").isEqualTo(401);
            Thread.sleep(2100);
            assertThat(get(base, "api/v1/whoami", brief).statusCode()).as("expired").isEqualTo(401);
            assertThat(get(base, "api/v1/whoami/other", soon).statusCode()).isEqualTo(404);
            waitFor(() -> metric(base, "kiln_canary_checks_total{result=\"ok\",target=\"local\"}") >= 1, "a canary check of the folder");
            assertThat(metric(base, "kiln_canary_checks_total{result=\"failed\",target=\"local\"}")).isZero();
        }
        assertThat(serve.stderr()).doesNotContain(ci);

        // Started again without --setup (the engine and key exist now), it removes what killed Kiln runs
        // left on the engine, as every other command does when it connects. Its release target is now a
        // WebDAV server that serves reads but refuses every write: the canary finds no repository there,
        // and a publish fails at the target and is counted.
        String orphan = Orphans.container();
        String rel = secret(project.run("token", "create", "rel", "--scope", "publish", "--json"));
        try (NginxDav dav = NginxDav.start(dir.resolve("dav"), "limit_except GET PROPFIND OPTIONS { deny all; }")) {
            Path yaml = project.root().resolve("kiln.yaml");
            Files.writeString(yaml, Files.readString(yaml) + """

                    targets:
                      - name: company
                        kind: webdav
                        url: %s
                    """.formatted(dav.url()));
            try (RunningService again = RunningService.start(project, Map.of("KILN_SERVICE_CANARY", "1s"))) {
                URI base = again.base();
                assertThat(Orphans.exists(orphan)).as("a killed run's container is removed at the service's start").isFalse();
                HttpResponse<String> submitted = http.send(HttpRequest.newBuilder(base.resolve("api/v1/builds"))
                        .header("Authorization", "Bearer " + rel).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"packages\": [\"hello\"], \"ref\": \"main\", \"mode\": \"publish\"}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
                String build = "api/v1/builds/" + json.readTree(submitted.body()).get("id").asLong();
                waitFor(() -> List.of("succeeded", "failed", "cancelled").contains(json.readTree(get(base, build, rel).body()).get("state").asText()),
                        "the publish build to end");
                JsonNode ended = json.readTree(get(base, build, rel).body());
                assertThat(ended.get("state").asText()).as(ended.toString()).isEqualTo("failed");
                assertThat(metric(base, "kiln_publish_failures_total{target=\"company\"}")).as(ended.toString()).isEqualTo(1);
                waitFor(() -> metric(base, "kiln_canary_checks_total{result=\"failed\",target=\"company\"}") >= 1, "a failed canary check");
                assertThat(again.stderr()).contains("canary: target company fails as dnf reads it: repodata/repomd.xml is missing (404)");
            }
        }
    }

    /** The value of one series on the service's /metrics, 0 when it is not there (yet). */
    private double metric(URI base, String series) throws Exception {
        for (String line : get(base, "metrics", null).body().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    interface Check {
        boolean holds() throws Exception;
    }

    private static void waitFor(Check check, String what) throws Exception {
        long deadline = System.nanoTime() + java.time.Duration.ofMinutes(3).toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited 3 min for " + what);
            }
            Thread.sleep(200);
        }
    }

    private String secret(KilnProject.Result made) throws Exception {
        assertThat(made.exitCode()).as(made.describe()).isZero();
        return json.readTree(made.stdout()).get("secret").asText();
    }

    private HttpResponse<String> get(URI base, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
