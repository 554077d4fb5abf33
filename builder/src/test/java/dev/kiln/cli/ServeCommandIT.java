package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.RunningService;
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

        RunningService serve = RunningService.start(project, Map.of(), "--setup");
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
        }
        assertThat(serve.stderr()).doesNotContain(ci);
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
