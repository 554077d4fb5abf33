package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.RunningService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kiln's service end to end, through the real launcher and engine: an engineer's clone with no
 * engine (DOCKER_HOST points nowhere) and no key builds and publishes with {@code build --remote},
 * the live log arriving on the terminal; a build-scoped token cannot publish; a commit the service
 * does not have is refused by name; a long build is cancelled and its container is gone at once.
 */
class ServiceBuildIT {

    /** A package whose build sleeps for ten minutes: one to cancel. */
    static final String SLOW_SPEC = """
            Name:           slow
            Version:        1.0
            Release:        1
            Summary:        Takes its time
            License:        MIT
            BuildArch:      noarch

            %description
            Builds for a long time, to be cancelled.

            %build
            echo slow build begins
            sleep 600

            %install
            mkdir -p %{buildroot}%{_datadir}/slow

            %files
            %{_datadir}/slow
            """;

    private static final Duration SILENCE = Duration.ofSeconds(40);

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void anEngineerWithoutEngineOrKeyBuildsAndPublishesRemotelyAndALongBuildIsCancelled() throws Exception {
        KilnProject service = KilnProject.create(Files.createDirectories(dir.resolve("service")));
        service.write("specs/slow/slow.spec", SLOW_SPEC);
        service.commit("a slow package");
        String eng = secret(service.run("token", "create", "eng", "--scope", "build", "--json"));
        String rel = secret(service.run("token", "create", "rel", "--scope", "publish", "--json"));

        // a build whose log stays silent this long is stopped; every other build here writes far more often
        RunningService serve = RunningService.start(service, Map.of("KILN_SERVICE_SILENCE", SILENCE.toSeconds() + "s"), "--setup");
        try (serve) {
            URI base = serve.base();

            Path laptopDir = dir.resolve("laptop");
            Git.cloneRepository().setURI(service.root().toUri().toString()).setDirectory(laptopDir.toFile()).call().close();
            KilnProject laptop = KilnProject.open(laptopDir);
            Map<String, String> noEngine = Map.of("DOCKER_HOST", "unix://" + dir.resolve("no-engine.sock"), "KILN_TOKEN", eng,
                    "KILN_REMOTE", base.toString());

            KilnProject.Result scratch = laptop.run(List.of("build", "hello", "--no-publish", "--json"), noEngine);
            assertThat(scratch.exitCode()).as(scratch.describe() + "\n--- service\n" + serve.stderr()).isZero();
            JsonNode scratchDoc = json.readTree(scratch.stdout());
            assertThat(scratchDoc.get("builds").get(0).get("status").asText()).isEqualTo("built");
            assertThat(scratchDoc.get("published").asBoolean()).isFalse();
            assertThat(scratchDoc.get("service").get("state").asText()).isEqualTo("succeeded");
            assertThat(scratch.stderr()).as("the live log reaches the terminal").contains("Submitted build #")
                    .contains("Start: rpmbuild").contains("+ sh -n hello.sh");
            long scratchId = scratchDoc.get("service").get("build").asLong();
            JsonNode artifacts = json.readTree(get(base, "api/v1/builds/" + scratchId + "/artifacts", eng).body());
            String rpmUrl = null;
            for (JsonNode a : artifacts.get("artifacts")) {
                if (a.get("name").asText().endsWith(".noarch.rpm")) {
                    rpmUrl = a.get("url").asText();
                }
            }
            assertThat(rpmUrl).as(artifacts.toString()).isNotNull();
            String provenanceUrl = null;
            for (JsonNode a : artifacts.get("artifacts")) {
                if (a.get("name").asText().endsWith("/provenance.json")) {
                    provenanceUrl = a.get("url").asText();
                }
            }
            assertThat(provenanceUrl).as("the build's provenance is one of its artifacts: " + artifacts).isNotNull();
            JsonNode statement = json.readTree(get(base, provenanceUrl.substring(1), eng).body());
            assertThat(statement.get("_type").asText()).isEqualTo("https://in-toto.io/Statement/v1");
            assertThat(statement.get("subject").toString()).contains(rpmUrl.substring(rpmUrl.lastIndexOf('/') + 1));
            assertThat(statement.toString()).as("the source is the packaging repository, not the service's own copy of it")
                    .contains("\"uri\":\"" + dev.kiln.git.SourceMirror.provenanceUri(java.util.Optional.empty(), service.root()) + "\"")
                    .doesNotContain("/service/source").doesNotContain("/service/work");
            HttpResponse<byte[]> rpm = http.send(HttpRequest.newBuilder(base.resolve(rpmUrl.substring(1)))
                    .header("Authorization", "Bearer " + eng).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(rpm.statusCode()).isEqualTo(200);
            Path fetched = dir.resolve("scratch.rpm");
            Files.write(fetched, rpm.body());
            ProcessBuilder checksig = new ProcessBuilder("rpmkeys", "--define", "_pkgverify_level signature", "--checksig", fetched.toString());
            assertThat(new String(checksig.start().getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .as("a scratch build is signed, but the key is not imported here").contains("SIGNATURES");

            KilnProject.Result refused = laptop.run(List.of("build", "hello"), noEngine);
            assertThat(refused.exitCode()).as(refused.describe() + "\n--- service\n" + serve.stderr()).isEqualTo(2);
            assertThat(refused.stderr()).contains("has scope build; this needs publish");

            laptop.write("specs/hello/notes.txt", "not pushed\n");
            laptop.commit("a commit only the laptop has");
            KilnProject.Result unpushed = laptop.run(List.of("build", "hello", "--no-publish"), noEngine);
            assertThat(unpushed.exitCode()).as(unpushed.describe() + "\n--- service\n" + serve.stderr()).isEqualTo(2);
            assertThat(unpushed.stderr()).contains("push it first");

            Map<String, String> releaser = Map.of("DOCKER_HOST", "unix://" + dir.resolve("no-engine.sock"), "KILN_TOKEN", rel);
            KilnProject.Result published = laptop.run(List.of("build", "hello", "--remote", base.toString(), "--rev", "main", "--json"),
                    releaser);
            assertThat(published.exitCode()).as(published.describe() + "\n--- service\n" + serve.stderr()).isZero();
            assertThat(json.readTree(published.stdout()).get("published").asBoolean()).isTrue();
            JsonNode packages = json.readTree(get(base, "api/v1/packages", eng).body());
            assertThat(packages.toString()).contains("hello-1.0-1");
            assertThat(laptopDir.resolve(".kiln/keys")).as("no key on the engineer's machine").doesNotExist();

            // a bump on the service: committed as the engineer, the branch pushed to the packaging repository, built and published
            try (Git git = Git.open(laptopDir.toFile())) {
                git.reset().setMode(org.eclipse.jgit.api.ResetCommand.ResetType.HARD).setRef("origin/main").call();
                var config = git.getRepository().getConfig();
                config.setString("user", null, "name", "Robin Releaser");
                config.setString("user", null, "email", "robin@example.com");
                config.save();
            }
            KilnProject.Result bumped = laptop.run(List.of("bump", "hello", "--to", "1.1", "--remote", base.toString(), "--json"), releaser);
            assertThat(bumped.exitCode()).as(bumped.describe() + "\n--- service\n" + serve.stderr()).isZero();
            JsonNode bump = json.readTree(bumped.stdout());
            assertThat(bump.get("branch").asText()).isEqualTo("bump/hello-1.1");
            assertThat(bump.get("build").get(0).get("nevra").asText()).startsWith("hello-1.1-1");
            assertThat(bump.get("build").get(0).get("published").asBoolean()).isTrue();
            try (Git origin = Git.open(service.root().toFile())) {
                var ref = origin.getRepository().exactRef("refs/heads/bump/hello-1.1");
                assertThat(ref).as("the branch is pushed to the packaging repository").isNotNull();
                var commit = origin.getRepository().parseCommit(ref.getObjectId());
                assertThat(commit.getName()).isEqualTo(bump.get("commit").asText());
                assertThat(commit.getAuthorIdent().getName()).isEqualTo("Robin Releaser");
            }
            assertThat(get(base, "api/v1/packages", eng).body()).contains("hello-1.1-1");

            // a long build, cancelled while it runs: its container is removed at once
            HttpResponse<String> submitted = post(base, "api/v1/builds", eng,
                    "{\"packages\": [\"slow\"], \"ref\": \"main\", \"mode\": \"scratch\"}");
            assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
            long slow = json.readTree(submitted.body()).get("id").asLong();
            waitFor(() -> containers(slow).size() == 1 && get(base, "api/v1/builds/" + slow, eng).body().contains("\"running\""),
                    Duration.ofMinutes(3), "the slow build to run");
            waitFor(() -> logText(base, slow, eng).contains("slow build begins"), Duration.ofMinutes(1), "the slow build's log");
            HttpResponse<String> cancelled = post(base, "api/v1/builds/" + slow + "/cancel", eng, "");
            assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
            assertThat(json.readTree(cancelled.body()).get("state").asText()).isEqualTo("cancelled");
            assertThat(containers(slow)).as("removed at once").isEmpty();
            waitFor(() -> logText(base, slow, eng).contains("event: end\ndata: {\"state\":\"cancelled\""), Duration.ofSeconds(30),
                    "the end of the cancelled build's log");
            assertThat(post(base, "api/v1/builds/" + slow + "/cancel", eng, "").statusCode()).as("ended already").isEqualTo(409);

            // the same long build, left alone: stopped once its log has been silent for service.silence
            HttpResponse<String> silent = post(base, "api/v1/builds", eng, "{\"packages\": [\"slow\"], \"ref\": \"main\"}");
            long quiet = json.readTree(silent.body()).get("id").asLong();
            // a reader of its log whose token is revoked meanwhile: the stream ends, as the next request would be refused
            String watcher = secret(service.run("token", "create", "watcher", "--scope", "build", "--json"));
            HttpResponse<java.io.InputStream> watched = http.send(HttpRequest.newBuilder(base.resolve("api/v1/builds/" + quiet + "/log"))
                    .header("Authorization", "Bearer " + watcher).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(watched.statusCode()).isEqualTo(200);
            java.util.concurrent.CompletableFuture<String> read = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (java.io.InputStream in = watched.body()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    return "failed: " + e;
                }
            });
            KilnProject.Result revoked = service.run("token", "revoke", "watcher");
            assertThat(revoked.exitCode()).as(revoked.describe()).isZero();
            String seen = read.get(BuildsApi.RECHECK.plusSeconds(10).toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            assertThat(seen).as("ended by the revocation, not by the build").doesNotContain("event: end");
            assertThat(json.readTree(get(base, "api/v1/builds/" + quiet, eng).body()).get("state").asText()).isIn("queued", "running");
            waitFor(() -> json.readTree(get(base, "api/v1/builds/" + quiet, eng).body()).get("state").asText().equals("failed"),
                    SILENCE.plus(Duration.ofMinutes(2)), "the silent build to be stopped");
            JsonNode stopped = json.readTree(get(base, "api/v1/builds/" + quiet, eng).body());
            assertThat(stopped.get("message").asText()).contains("silent for service.silence (" + SILENCE.toSeconds() + "s)");
            assertThat(stopped.get("durationMillis").asLong()).isGreaterThanOrEqualTo(SILENCE.toMillis());
            assertThat(containers(quiet)).isEmpty();
        }
        assertThat(serve.stderr()).doesNotContain(eng).doesNotContain(rel);
        try (Stream<Path> files = Files.walk(service.root().resolve(".kiln"))) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> f.toString().endsWith(".log") || f.toString().endsWith(".json"))
                    .toList()) {
                assertThat(Files.readString(f, StandardCharsets.ISO_8859_1)).as(f.toString()).doesNotContain(eng).doesNotContain(rel);
            }
        }
    }

    private String logText(URI base, long id, String token) {
        // the log of an ended build ends; of a running one, read what is there with a short timeout
        try {
            HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(base.resolve("api/v1/builds/" + id + "/log"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofInputStream());
            StringBuilder text = new StringBuilder();
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            try (java.io.InputStream in = r.body()) {
                byte[] buf = new byte[8192];
                while (System.nanoTime() < until) {
                    if (in.available() == 0) {
                        if (text.indexOf("event: end") >= 0) {
                            break;
                        }
                        Thread.sleep(50);
                        continue;
                    }
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    text.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            }
            return text.toString();
        } catch (Exception e) {
            return "";
        }
    }

    private static List<String> containers(long build) {
        try {
            Process p = new ProcessBuilder("docker", "ps", "-aq", "--filter", "label=" + BuildRunner.LABEL + "=" + build).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor();
            return out.isEmpty() ? List.of() : List.of(out.split("\\s+"));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitFor(Condition c, Duration limit, String what) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!c.holds()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(250);
        }
    }

    /** The secret that {@code token create --json} printed. */
    static String secret(KilnProject.Result made) throws Exception {
        assertThat(made.exitCode()).as(made.describe()).isZero();
        return new ObjectMapper().readTree(made.stdout()).get("secret").asText();
    }

    private HttpResponse<String> get(URI base, String path, String token) {
        try {
            return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> post(URI base, String path, String token, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
