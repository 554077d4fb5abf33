package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.KilnProject;
import dev.kiln.RunningService;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The push hooks and the build-ended notification of the real service, through the launcher and
 * the real engine: without the secret the hooks are off; a signed GitHub push of a change to
 * specs/hello publishes hello, and a receiver on loopback gets the signed document when it ends;
 * a bad signature or GitLab token is 401 and queues nothing; a GitLab push of another branch
 * builds scratch; pushes that change no package, new branches without changes and deleted
 * branches build nothing; the audit log has each push, and no secret reaches the service's output.
 */
class WebhooksIT {

    private static final String HOOK_SECRET = "hook-s3cret-4a1f";
    private static final String NOTIFY_SECRET = "notify-s3cret-9c2e";
    private static final String RECEIVER_TOKEN = "rcv-t0ken-77d0";

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    private record Delivery(String signature, byte[] body) {
    }

    @Test
    void signedPushesBuildWhatTheyChangedAndTheReceiverIsToldSigned() throws Exception {
        KilnProject service = KilnProject.create(Files.createDirectories(dir.resolve("service")));
        String admin = secret(service.run("token", "create", "ops", "--scope", "admin", "--json"));

        try (RunningService off = RunningService.start(service, Map.of(), "--setup")) {
            HttpResponse<String> refused = hook(off.base(), "github", "push", signed("{}", HOOK_SECRET), "{}");
            assertThat(refused.statusCode()).as("no secret, no hooks").isEqualTo(503);
            assertThat(refused.body()).contains(Webhooks.SECRET_ENV);
        }

        BlockingQueue<Delivery> received = new LinkedBlockingQueue<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/kiln", exchange -> {
            try (exchange) {
                received.add(new Delivery(exchange.getRequestHeaders().getFirst(BuildNotifier.SIGNATURE),
                        exchange.getRequestBody().readAllBytes()));
                exchange.sendResponseHeaders(204, -1);
            }
        });
        receiver.start();
        Map<String, String> env = Map.of(Webhooks.SECRET_ENV, HOOK_SECRET, BuildNotifier.SECRET_ENV, NOTIFY_SECRET,
                "KILN_SERVICE_NOTIFY", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/kiln?token=" + RECEIVER_TOKEN,
                // the address users reach it at, behind a proxy: the notification's build URL
                "KILN_SERVICE_URL", "https://kiln.example.com/builds");
        RunningService serve = RunningService.start(service, env);
        long published;
        long cancelled;
        try (serve) {
            URI base = serve.base();
            assertThat(hook(base, "github", "ping", signed("{\"zen\":\"Keep it logically awesome.\"}", HOOK_SECRET),
                    "{\"zen\":\"Keep it logically awesome.\"}").statusCode()).isEqualTo(200);

            String before = head(service);
            service.write("specs/hello/hello.spec", service.read("specs/hello/hello.spec") + "# rebuilt after a push\n");
            service.commit("hello: a change pushed to main");
            String after = head(service);
            String push = githubPush("refs/heads/main", before, after, false);

            HttpResponse<String> forged = hook(base, "github", "push", signed(push, "not-the-secret"), push);
            assertThat(forged.statusCode()).as(forged.body()).isEqualTo(401);
            assertThat(hook(base, "github", "push", null, push).statusCode()).as("unsigned").isEqualTo(401);
            assertThat(builds(base, admin)).as("a refused push queues nothing").isEmpty();

            HttpResponse<String> queued = hook(base, "github", "push", signed(push, HOOK_SECRET), push);
            assertThat(queued.statusCode()).as(queued.body()).isEqualTo(201);
            JsonNode build = json.readTree(queued.body()).get("build");
            published = build.get("id").asLong();
            assertThat(build.get("mode").asText()).isEqualTo("publish");
            assertThat(build.get("submitter").asText()).isEqualTo("github:octocat");
            assertThat(build.get("changedSince").asText()).isEqualTo(before);
            assertThat(build.get("commit").asText()).isEqualTo(after);

            // GitLab: a bad token is refused; a push of another branch builds scratch (cancelled here: its end is told too)
            String branchPush = gitlabPush("refs/heads/pat/hello", before, after);
            assertThat(gitlab(base, "wrong-token", branchPush).statusCode()).isEqualTo(401);
            assertThat(builds(base, admin)).hasSize(1);
            HttpResponse<String> scratch = gitlab(base, HOOK_SECRET, branchPush);
            assertThat(scratch.statusCode()).as(scratch.body()).isEqualTo(201);
            JsonNode scratchBuild = json.readTree(scratch.body()).get("build");
            assertThat(scratchBuild.get("mode").asText()).isEqualTo("scratch");
            assertThat(scratchBuild.get("submitter").asText()).isEqualTo("gitlab:jsmith");
            cancelled = scratchBuild.get("id").asLong();
            assertThat(post(base, "api/v1/builds/" + cancelled + "/cancel", admin).statusCode()).isEqualTo(200);

            // pushes that change no package build nothing
            service.write("README.md", "The packaging repository.\n");
            service.commit("a README");
            String docs = head(service);
            HttpResponse<String> readme = gitlab(base, HOOK_SECRET, gitlabPush("refs/heads/main", after, docs));
            assertThat(readme.statusCode()).as(readme.body()).isEqualTo(200);
            assertThat(readme.body()).contains("nothing to build: no package changed since");
            HttpResponse<String> newBranch = gitlab(base, HOOK_SECRET, gitlabPush("refs/heads/pat/docs", PushEvent.NO_COMMIT, docs));
            assertThat(newBranch.statusCode()).as(newBranch.body()).isEqualTo(200);
            assertThat(newBranch.body()).contains("nothing to build: no package changed since main");
            String deletion = githubPush("refs/heads/pat/hello", after, PushEvent.NO_COMMIT, true);
            HttpResponse<String> deleted = hook(base, "github", "push", signed(deletion, HOOK_SECRET), deletion);
            assertThat(deleted.statusCode()).isEqualTo(200);
            assertThat(deleted.body()).contains("branch pat/hello was deleted");
            String forcePush = githubPush("refs/heads/pat/hello", "5ca1ab1e".repeat(5), after, false);
            HttpResponse<String> forced = hook(base, "github", "push", signed(forcePush, HOOK_SECRET), forcePush);
            assertThat(forced.statusCode()).as(forced.body()).isEqualTo(200);
            assertThat(forced.body()).as("a commit gone by a force push: compared with main").contains("no package changed since main");
            assertThat(hook(base, "github", "issues", signed("{}", HOOK_SECRET), "{}").statusCode()).as("other events").isEqualTo(202);
            assertThat(builds(base, admin)).hasSize(2);

            Map<Long, JsonNode> told = new java.util.HashMap<>();
            while (told.size() < 2) {
                Delivery d = received.poll(4, TimeUnit.MINUTES);
                assertThat(d).as("notifications of both ends; service:\n" + serve.stderr()).isNotNull();
                assertThat(WebhookSignature.signs(d.signature(), NOTIFY_SECRET, d.body())).as("signed").isTrue();
                JsonNode doc = json.readTree(d.body());
                told.put(doc.get("id").asLong(), doc);
            }
            JsonNode end = told.get(published);
            assertThat(end.get("state").asText()).as(end.toString()).isEqualTo("succeeded");
            assertThat(end.get("exitCode").asInt()).isZero();
            assertThat(end.get("packages").toString()).isEqualTo("[\"hello\"]");
            assertThat(end.get("mode").asText()).isEqualTo("publish");
            assertThat(end.get("submitter").asText()).isEqualTo("github:octocat");
            assertThat(end.get("commit").asText()).isEqualTo(after);
            assertThat(end.get("durationMillis").asLong()).isPositive();
            assertThat(end.get("url").asText()).isEqualTo("https://kiln.example.com/builds/api/v1/builds/" + published);
            assertThat(told.get(cancelled).get("state").asText()).isEqualTo("cancelled");
            assertThat(get(base, "api/v1/packages", admin)).contains("hello-1.0-1");
        } finally {
            receiver.stop(0);
        }
        assertThat(serve.stderr()).doesNotContain(HOOK_SECRET).doesNotContain(NOTIFY_SECRET).doesNotContain(RECEIVER_TOKEN);
        try (ServiceDatabase db = ServiceDatabase.embedded(service.root().resolve(".kiln/service"))) {
            List<String> pushes = new ArrayList<>();
            for (Audit.Event e : Audit.read(db)) {
                if (e.action().equals("push")) {
                    pushes.add(e.actor() + " " + e.subject());
                }
            }
            assertThat(pushes).hasSize(6);
            assertThat(pushes.get(0)).startsWith("github:octocat refs/heads/main ").endsWith(": build #" + published + " (publish)");
            assertThat(pushes.get(1)).startsWith("gitlab:jsmith refs/heads/pat/hello ").endsWith(": build #" + cancelled + " (scratch)");
            assertThat(pushes.get(2)).startsWith("gitlab:jsmith refs/heads/main ").contains("nothing to build");
            assertThat(pushes.get(4)).startsWith("github:octocat refs/heads/pat/hello ").contains("was deleted");
        }
    }

    private String githubPush(String ref, String before, String after, boolean deleted) throws Exception {
        ObjectNode doc = (ObjectNode) sample("github-push.json");
        doc.put("ref", ref).put("before", before).put("after", after).put("deleted", deleted);
        return json.writeValueAsString(doc);
    }

    private String gitlabPush(String ref, String before, String after) throws Exception {
        ObjectNode doc = (ObjectNode) sample("gitlab-push.json");
        doc.put("ref", ref).put("before", before).put("after", after).put("checkout_sha", after);
        return json.writeValueAsString(doc);
    }

    private JsonNode sample(String name) throws Exception {
        try (InputStream in = WebhooksIT.class.getResourceAsStream(name)) {
            return json.readTree(in);
        }
    }

    private static String signed(String body, String secret) {
        return WebhookSignature.sign(secret, body.getBytes(StandardCharsets.UTF_8));
    }

    private HttpResponse<String> hook(URI base, String host, String event, String signature, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("api/v1/hooks/" + host)).header("Content-Type", "application/json")
                .header("X-GitHub-Event", event).header("User-Agent", "GitHub-Hookshot/5b2e4a9")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (signature != null) {
            request.header("X-Hub-Signature-256", signature);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> gitlab(URI base, String token, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve("api/v1/hooks/gitlab")).header("Content-Type", "application/json")
                .header("X-Gitlab-Event", "Push Hook").header("X-Gitlab-Token", token)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private List<JsonNode> builds(URI base, String token) throws Exception {
        List<JsonNode> all = new ArrayList<>();
        json.readTree(get(base, "api/v1/builds", token)).get("builds").forEach(all::add);
        return all;
    }

    private String get(URI base, String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private HttpResponse<String> post(URI base, String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String head(KilnProject project) throws Exception {
        try (Git git = Git.open(project.root().toFile())) {
            return git.getRepository().resolve("HEAD").name();
        }
    }

    private String secret(KilnProject.Result made) throws Exception {
        assertThat(made.exitCode()).as(made.describe()).isZero();
        return json.readTree(made.stdout()).get("secret").asText();
    }
}
