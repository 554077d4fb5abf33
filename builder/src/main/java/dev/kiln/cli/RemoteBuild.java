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
        for (String option : invocation.options().keySet()) {
            if (!OPTIONS.contains(option)) {
                throw KilnException.badInput("build --remote: --" + option + " is not available on the service; it takes packages,"
                        + " --changed-since, --rev, --no-publish, --accept-changes and --json");
            }
        }
        String token = System.getenv("KILN_TOKEN");
        if (token == null || token.isBlank()) {
            throw KilnException.badInput("build --remote: set KILN_TOKEN to a token of the service (made with ./kiln token create"
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
        String ref = invocation.value("rev").orElseGet(() -> head(config, out));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("packages", invocation.arguments());
        invocation.value("changed-since").ifPresent(s -> body.put("changedSince", s));
        body.put("ref", ref);
        body.put("mode", invocation.flag("no-publish") ? "scratch" : "publish");
        body.put("acceptChanges", invocation.flag("accept-changes"));
        ServiceClient service = new ServiceClient(base, token);
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
        JsonNode result = build.path("result");
        int exit = end.path("exitCode").asInt(build.path("exitCode").asInt(KilnException.INTERNAL));
        if (invocation.flag("json")) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("ok", exit == 0);
            doc.put("exitCode", exit);
            doc.put("service", Map.of("url", service.base().toString(), "build", id, "state", end.path("state").asString()));
            if (result.isObject()) {
                result.properties().forEach(p -> doc.putIfAbsent(p.getKey(), p.getValue()));
            }
            out.json(doc);
        } else {
            describe(result, id, service.base(), out);
            if (exit != 0) {
                out.error("build #" + id + " " + end.path("state").asString() + ": " + end.path("message").asString(""));
            }
        }
        return exit;
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
                case "built" -> {
                    out.result("Built " + b.path("nevra").asString() + " in " + String.format("%.1f s", b.path("durationMillis").asLong() / 1000.0)
                            + " (build #" + id + " on " + base + ", commit " + b.path("commit").asString("none").substring(0, 12) + ")");
                    out.result("  Signed by:    key " + b.path("signingKey").asString());
                    out.result("  Artifacts:    " + base.resolve("api/v1/builds/" + id + "/artifacts"));
                    out.result(b.path("published").asBoolean() ? "  Published" + (b.hasNonNull("install") ? "; install it: "
                            + b.get("install").asString() : "") : "  Not published (scratch build)");
                }
                case "up-to-date" -> out.result("Up to date " + b.path("nevra").asString() + " (build key " + b.path("buildKey").asString() + ")");
                case "failed" -> out.result("FAILED " + name + ": " + b.path("error").asString());
                default -> out.result("Skipped " + name + ": " + b.path("reason").asString());
            }
        }
        if (result.hasNonNull("note")) {
            out.result(result.get("note").asString());
        }
    }
}
