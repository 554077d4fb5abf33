package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.git.DefinitionRepository;
import dev.kiln.service.ServiceClient;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * {@code kiln build --remote URL}: the same build, run by Kiln's service. It submits the packages
 * at a commit (the checkout's HEAD, or {@code --rev}), which the service must have (push it first),
 * streams the live log to the terminal and exits with the build's own exit code and {@code --json}
 * document. Neither an engine nor the signing key is used here.
 */
final class RemoteBuild {

    /** What a remote build can be asked; the rest is the service's to decide (jobs, its targets). */
    private static final Set<String> OPTIONS = Set.of("remote", "changed-since", "rev", "no-publish", "accept-changes", "json");

    private RemoteBuild() {
    }

    static int run(Invocation invocation, String url, KilnConfig config, Output out) {
        refuseOthers(invocation, OPTIONS, "build --remote", "packages, --changed-since, --rev, --no-publish, --accept-changes and --json");
        ServiceClient service = client(url, "build --remote");
        String ref = invocation.value("rev").orElseGet(() -> head(config, out));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("packages", invocation.arguments());
        invocation.value("changed-since").ifPresent(s -> body.put("changedSince", s));
        body.put("ref", ref);
        body.put("mode", invocation.flag("no-publish") ? "scratch" : "publish");
        body.put("acceptChanges", invocation.flag("accept-changes"));
        Ended end = submitAndFollow(service, body, out);
        if (invocation.flag("json")) {
            out.json(document(end, service));
        } else {
            describe(end.build().path("result"), end.id(), service.base(), out);
            failure(end, out);
        }
        return end.exitCode();
    }

    /** What a bump can be asked remotely. */
    private static final Set<String> BUMP_OPTIONS = Set.of("remote", "to", "drop-patch", "auto-drop", "no-fetch", "no-build", "no-publish",
            "accept-changes", "json");

    /**
     * {@code kiln bump --remote}: the service bumps at the checkout's HEAD commit (which it must
     * have), commits as this checkout's Git author, pushes the branch to the packaging repository,
     * and builds it there.
     */
    static int bump(Invocation invocation, String url, KilnConfig config, dev.kiln.pipeline.BumpRequest request, Output out) {
        refuseOthers(invocation, BUMP_OPTIONS, "bump --remote", "--to, --drop-patch, --auto-drop, --no-fetch, --no-build, --no-publish,"
                + " --accept-changes and --json");
        ServiceClient service = client(url, "bump --remote");
        String ref = head(config, out);
        org.eclipse.jgit.lib.PersonIdent author;
        try (DefinitionRepository git = DefinitionRepository.open(config.root())) {
            author = git.author();
        }
        Map<String, Object> bump = new LinkedHashMap<>();
        bump.put("to", request.toVersion());
        bump.put("dropPatches", request.dropPatches());
        bump.put("options", request.options().stream().filter(o -> o != dev.kiln.pipeline.BumpRequest.Option.NO_PUBLISH)
                .map(Enum::name).toList());
        bump.put("authorName", author.getName());
        bump.put("authorEmail", author.getEmailAddress());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("packages", List.of(request.packageName()));
        body.put("ref", ref);
        body.put("mode", request.publish() ? "publish" : "scratch");
        body.put("acceptChanges", request.acceptChanges());
        body.put("bump", bump);
        Ended end = submitAndFollow(service, body, out);
        JsonNode result = end.build().path("result");
        if (invocation.flag("json")) {
            out.json(document(end, service));
        } else if (result.isObject()) {
            out.result("Bumped " + result.path("package").asString() + " " + result.path("from").asString() + " -> "
                    + result.path("to").asString() + "-" + result.path("release").asString() + " on branch "
                    + result.path("branch").asString() + " (commit " + result.path("commit").asString().substring(0, 12)
                    + ", pushed; git fetch origin " + result.path("branch").asString() + ")");
            result.path("dropped").forEach(d -> out.result("  dropped " + d.path("patch").asString() + " (" + d.path("reason").asString() + ")"));
            result.path("kept").forEach(k -> out.result("  kept    " + k.asString()));
            result.path("todo").forEach(t -> out.result("  to do:  " + t.asString()));
            result.path("build").forEach(built -> built(built, end.id(), service.base(), out));
        }
        failure(end, out);
        return end.exitCode();
    }

    /** A build the service ran: its id, its document (with its result), how it ended. */
    private record Ended(long id, JsonNode build, JsonNode end, int exitCode) {
    }

    private static void refuseOthers(Invocation invocation, Set<String> allowed, String what, String list) {
        for (String option : invocation.options().keySet()) {
            if (!allowed.contains(option)) {
                throw KilnException.badInput(what + ": --" + option + " is not available on the service; it takes " + list);
            }
        }
    }

    private static ServiceClient client(String url, String what) {
        String token = System.getenv("KILN_TOKEN");
        if (token == null || token.isBlank()) {
            throw KilnException.badInput(what + ": set KILN_TOKEN to a token of the service (made with ./kiln token create"
                    + " on its machine)");
        }
        URI base;
        try {
            base = URI.create(url);
            if (base.getScheme() == null || !base.getScheme().matches("https?") || base.getHost() == null) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw KilnException.badInput("--remote '" + url + "' is not a URL: give the service's, like https://kiln.example.com/");
        }
        return new ServiceClient(base, token);
    }

    private static Ended submitAndFollow(ServiceClient service, Map<String, Object> body, Output out) {
        JsonNode submitted = service.submit(body);
        long id = submitted.get("id").asLong();
        String page = service.base().resolve("api/v1/builds/" + id).toString();
        out.progress("Submitted build #" + id + " of " + submitted.path("commit").asString() + " to " + service.base() + " (" + page + ")");
        JsonNode end = service.follow(id, e -> {
            if (e.kind().equals("log")) {
                out.log(e.text());
            } else {
                out.progress(e.text());
            }
        });
        JsonNode build = service.get(id);
        return new Ended(id, build, end, end.path("exitCode").asInt(build.path("exitCode").asInt(KilnException.INTERNAL)));
    }

    private static Map<String, Object> document(Ended end, ServiceClient service) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("ok", end.exitCode() == 0);
        doc.put("exitCode", end.exitCode());
        doc.put("service", Map.of("url", service.base().toString(), "build", end.id(), "state", end.end().path("state").asString()));
        JsonNode result = end.build().path("result");
        if (result.isObject()) {
            result.properties().forEach(p -> doc.putIfAbsent(p.getKey(), p.getValue()));
        }
        return doc;
    }

    private static void failure(Ended end, Output out) {
        if (end.exitCode() != 0) {
            out.error("build #" + end.id() + " " + end.end().path("state").asString() + ": " + end.end().path("message").asString(""));
        }
    }

    /** The commit the checkout is at, which the service builds; a build of uncommitted changes is refused. */
    private static String head(KilnConfig config, Output out) {
        try (DefinitionRepository git = DefinitionRepository.open(config.root())) {
            DefinitionRepository.Snapshot head;
            try {
                head = git.snapshot("HEAD", List.of("specs", "patches", "containers"));
            } catch (KilnException e) {
                throw KilnException.badInput("build --remote: " + config.root() + " has no commit to build: commit and push, or give --rev REF");
            }
            if (head.commit() == null) {
                throw KilnException.badInput("build --remote: " + config.root() + " is not a Git checkout: give --rev REF");
            }
            DefinitionRepository.Snapshot working = git.snapshot(null, List.of("specs", "patches", "containers"));
            if (working.dirty()) {
                out.progress("note: uncommitted changes in specs/, patches/ or containers/ are not built; the service builds commit "
                        + head.commit().substring(0, 12));
            }
            return head.commit();
        }
    }

    private static void describe(JsonNode result, long id, URI base, Output out) {
        for (JsonNode b : result.path("builds")) {
            String status = b.path("status").asString();
            String name = b.path("package").asString();
            switch (status) {
                case "built" -> built(b, id, base, out);
                case "up-to-date" -> out.result("Up to date " + b.path("nevra").asString() + " (build key " + b.path("buildKey").asString() + ")");
                case "failed" -> out.result("FAILED " + name + ": " + b.path("error").asString());
                default -> out.result("Skipped " + name + ": " + b.path("reason").asString());
            }
        }
        if (result.hasNonNull("note")) {
            out.result(result.get("note").asString());
        }
    }

    private static void built(JsonNode b, long id, URI base, Output out) {
        out.result("Built " + b.path("nevra").asString() + " in " + String.format("%.1f s", b.path("durationMillis").asLong() / 1000.0)
                + " (build #" + id + " on " + base + ", commit " + b.path("commit").asString("none").substring(0, 12) + ")");
        out.result("  Signed by:    key " + b.path("signingKey").asString());
        out.result("  Artifacts:    " + base.resolve("api/v1/builds/" + id + "/artifacts"));
        out.result(b.path("published").asBoolean() ? "  Published to the service's repository" : "  Not published (scratch build)");
    }
}
