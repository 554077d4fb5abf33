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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load and faults on the real service: 10 clients submit 50 builds at once (publishes that are
 * soon up to date, scratch builds that always build, and some they cancel); the service is killed
 * with SIGKILL while builds run, and started again on the same database. Every build then ends
 * exactly once, none is lost or made twice, no container is left, and the repository verifies.
 */
class ServiceLoadIT {

    /** Builds in a few seconds, every time: a scratch build is never up to date. */
    private static final String TINY_SPEC = """
            Name:           tiny
            Version:        1.0
            Release:        1
            Summary:        Builds quickly
            License:        MIT
            BuildArch:      noarch

            %description
            A package that builds in seconds.

            %build
            echo building tiny
            sleep 2

            %install
            mkdir -p %{buildroot}%{_datadir}/tiny
            echo tiny > %{buildroot}%{_datadir}/tiny/tiny.txt

            %files
            %{_datadir}/tiny
            """;

    private static final int CLIENTS = 10;
    private static final int BUILDS = 50;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void fiftyBuildsFromTenClientsEachEndExactlyOnceThroughAKillOfTheService() throws Exception {
        KilnProject project = KilnProject.create(Files.createDirectories(dir.resolve("service")));
        project.write("specs/tiny/tiny.spec", TINY_SPEC);
        project.commit("a tiny package");
        List<String> secrets = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            KilnProject.Result made = project.run("token", "create", "client" + c, "--scope", "publish", "--json");
            assertThat(made.exitCode()).as(made.describe()).isZero();
            secrets.add(json.readTree(made.stdout()).get("secret").asText());
        }
        Map<String, String> env = Map.of("KILN_SERVICE_BUILDS", "2");
        Set<Long> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
        ConcurrentLinkedQueue<Long> cancelled = new ConcurrentLinkedQueue<>();
        URI base;
        long killedAt;
        try (RunningService first = RunningService.start(project, env, "--setup")) {
            base = first.base();
            URI at = base;
            try (ExecutorService clients = Executors.newFixedThreadPool(CLIENTS)) {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    String token = secrets.get(c);
                    int client = c;
                    done.add(clients.submit(() -> {
                        for (int i = 0; i < BUILDS / CLIENTS; i++) {
                            String body = switch (i) {
                                case 0, 1 -> "{\"packages\": [\"tiny\"], \"ref\": \"main\", \"mode\": \"scratch\"}";
                                case 2 -> "{\"packages\": [\"hello\"], \"ref\": \"main\", \"mode\": \"publish\"}";
                                default -> "{\"packages\": [\"" + (client % 2 == 0 ? "libgreet" : "hello") + "\"], \"ref\": \"main\","
                                        + " \"mode\": \"publish\"}";
                            };
                            HttpResponse<String> r = post(at, "api/v1/builds", token, body);
                            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
                            long id = json.readTree(r.body()).get("id").asLong();
                            ids.add(id);
                            if (i == 4 && client % 3 == 0) {
                                HttpResponse<String> cancel = post(at, "api/v1/builds/" + id + "/cancel", token, "");
                                if (cancel.statusCode() == 200) {
                                    cancelled.add(id);
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            }
            assertThat(ids).hasSize(BUILDS);
            // kill it while builds run, after some have ended
            waitFor(() -> ended(at, secrets.getFirst()) >= 6 && running(at, secrets.getFirst()) >= 1, Duration.ofMinutes(5),
                    () -> "builds to end and others to run: " + unended(at, secrets.getFirst()) + "\n--- service\n" + first.stderr());
            killedAt = System.nanoTime();
            first.process().destroyForcibly();
            first.process().waitFor();
        }

        try (RunningService second = RunningService.start(project, env)) {
            URI at = second.base();
            waitFor(() -> ended(at, secrets.getFirst()) == BUILDS, Duration.ofMinutes(6), () -> "every build to end after the restart: "
                    + unended(at, secrets.getFirst()) + "\n--- service\n" + second.stderr());
            JsonNode list = json.readTree(get(at, "api/v1/builds?limit=1000", secrets.getFirst()).body()).get("builds");
            assertThat(list).as("none lost, none made twice").hasSize(BUILDS);
            Set<Long> seen = new HashSet<>();
            int restarted = 0;
            for (JsonNode b : list) {
                long id = b.get("id").asLong();
                assertThat(seen.add(id)).isTrue();
                assertThat(b.get("state").asText()).as(b.toString()).isIn("succeeded", "failed", "cancelled");
                assertThat(b.get("attempt").asInt()).as(b.toString()).isLessThanOrEqualTo(2);
                if (b.get("attempt").asInt() == 2) {
                    restarted++;
                    assertThat(b.get("message").isNull() ? "" : b.get("message").asText()).as(b.toString()).doesNotContain("twice");
                }
                if (cancelled.contains(id)) {
                    assertThat(b.get("state").asText()).isEqualTo("cancelled");
                } else {
                    assertThat(b.get("state").asText()).as("a build nobody cancelled succeeds: " + b).isEqualTo("succeeded");
                }
                // the log tells each start, and the end once; a build cancelled in the queue never started and has none
                Path logFile = project.root().resolve(".kiln/service/logs/" + id + ".log");
                if (b.get("attempt").asInt() == 0) {
                    assertThat(b.get("state").asText()).isEqualTo("cancelled");
                    assertThat(logFile).doesNotExist();
                    continue;
                }
                String log = Files.readString(logFile, StandardCharsets.UTF_8);
                // one event a line: its kind, @ and its time, a tab, its text
                long starts = log.lines().filter(l -> l.matches("stage(@\\d+)?\tStart: build #" + id + " .*")).count();
                long ends = log.lines().filter(l -> l.matches("end(@\\d+)?\t.*")).count();
                assertThat(starts).as(id + " started as often as it says\n" + log).isEqualTo(b.get("attempt").asLong());
                // the file's end line is written after the database's, so a kill between the two leaves none there
                assertThat(ends).as(id + " ended at most once\n" + log).isLessThanOrEqualTo(1);
                // what a client follows ends exactly once, with the database's state
                String events = get(at, "api/v1/builds/" + id + "/log", secrets.getFirst()).body();
                assertThat(events.split("event: end\n", -1)).as(id + " ends once\n" + events).hasSize(2);
                assertThat(events).contains("event: end\ndata: {\"state\":\"" + b.get("state").asText() + "\"");
            }
            assertThat(seen).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(restarted).as("the builds running at the kill started once more").isGreaterThanOrEqualTo(1);
            assertThat(containers()).as("no container left").isEmpty();
            System.out.printf("ServiceLoadIT: %d builds, %d started again after the kill, all ended %.1f s after it%n", BUILDS, restarted,
                    (System.nanoTime() - killedAt) / 1e9);
        }
        KilnProject.Result verify = project.run("repo", "verify", "--json");
        assertThat(verify.exitCode()).as(verify.describe()).isZero();
    }

    private long ended(URI base, String token) throws Exception {
        JsonNode builds = json.readTree(get(base, "api/v1/builds?limit=1000", token).body()).get("builds");
        long n = 0;
        for (JsonNode b : builds) {
            if (List.of("succeeded", "failed", "cancelled").contains(b.get("state").asText())) {
                n++;
            }
        }
        return n;
    }

    private long running(URI base, String token) throws Exception {
        JsonNode builds = json.readTree(get(base, "api/v1/builds?limit=1000", token).body()).get("builds");
        long n = 0;
        for (JsonNode b : builds) {
            if (b.get("state").asText().equals("running")) {
                n++;
            }
        }
        return n;
    }

    private static List<String> containers() throws Exception {
        Process p = new ProcessBuilder("docker", "ps", "-aq", "--filter", "label=" + BuildRunner.LABEL).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor();
        return out.isEmpty() ? List.of() : List.of(out.split("\\s+"));
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitFor(Condition c, Duration limit, java.util.function.Supplier<String> what) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + limit + " for " + what.get());
            }
            Thread.sleep(200);
        }
    }

    private String unended(URI base, String token) {
        try {
            StringBuilder out = new StringBuilder();
            for (JsonNode b : json.readTree(get(base, "api/v1/builds?limit=1000", token).body()).get("builds")) {
                if (!List.of("succeeded", "failed", "cancelled").contains(b.get("state").asText())) {
                    out.append("\n  ").append(b);
                }
            }
            return out.toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    private HttpResponse<String> get(URI base, String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(URI base, String path, String token, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
