package dev.kiln.service;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import dev.kiln.KilnException;
import dev.kiln.git.DefinitionRepository;
import dev.kiln.git.SourceMirror;
import dev.kiln.pipeline.BuildService;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code POST /api/v1/hooks/github} and {@code /api/v1/hooks/gitlab}: a push to the packaging
 * repository queues a build of what it changed, as {@code --changed-since <before>} at the pushed
 * commit; publishing for the release branch, scratch for others. The hosts sign in with the shared
 * secret of {@value #SECRET_ENV} (never a setting of kiln.yaml, which comes with the branch): GitHub
 * signs the body with it, GitLab sends it as a token. Without it the hooks answer 503; a request
 * it does not sign is 401 and queues nothing. Each push that signs in goes into the audit log, with
 * what it queued.
 */
public final class Webhooks {

    static final String PATH = "/api/v1/hooks/";
    /** The environment variable holding the secret the hosts share with the service. */
    public static final String SECRET_ENV = "KILN_SERVICE_WEBHOOK_SECRET";
    private static final Logger LOG = LoggerFactory.getLogger(Webhooks.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** GitHub caps a delivery at 25 MB; a larger body is no payload of theirs. */
    private static final int MAX_BODY = 25 * 1024 * 1024;

    /** The Git hosts whose pushes the service takes, with how each signs and names its events. */
    enum Host {
        GITHUB("github", "X-GitHub-Event", "push"), GITLAB("gitlab", "X-Gitlab-Event", "Push Hook");

        final String label;
        final String eventHeader;
        final String pushEvent;

        Host(String label, String eventHeader, String pushEvent) {
            this.label = label;
            this.eventHeader = eventHeader;
            this.pushEvent = pushEvent;
        }

        boolean authentic(Headers headers, String secret, byte[] body) {
            return this == GITHUB ? WebhookSignature.signs(headers.getFirst("X-Hub-Signature-256"), secret, body)
                    : WebhookSignature.sameToken(headers.getFirst("X-Gitlab-Token"), secret);
        }

        String refusal() {
            return this == GITHUB ? "X-Hub-Signature-256 does not sign the body with the shared secret: set the webhook's secret to "
                    + SECRET_ENV + " of the service" : "X-Gitlab-Token is not the shared secret: set the webhook's secret token to "
                    + SECRET_ENV + " of the service";
        }

        Optional<PushEvent> push(JsonNode payload) {
            return this == GITHUB ? PushEvent.github(payload) : PushEvent.gitlab(payload);
        }
    }

    private final Optional<String> secret;
    private final BuildRunner runner;
    private final SourceMirror source;
    private final String releaseBranch;
    private final String builder;

    /**
     * @param env where {@value #SECRET_ENV} is read from
     * @param source where the pushed commits are read, to tell what a push changed
     * @param releaseBranch the branch whose pushes publish ({@code service.release-branch})
     * @param builder the builder whose folder, when changed, changes every package
     */
    public Webhooks(Map<String, String> env, BuildRunner runner, SourceMirror source, String releaseBranch, String builder) {
        String s = env.get(SECRET_ENV);
        this.secret = s == null || s.isBlank() ? Optional.empty() : Optional.of(s);
        this.runner = runner;
        this.source = source;
        this.releaseBranch = releaseBranch;
        this.builder = builder;
    }

    void handle(HttpExchange exchange, Clock clock) throws IOException {
        try {
            String path = exchange.getRequestURI().getPath();
            Optional<Host> host = java.util.Arrays.stream(Host.values()).filter(h -> path.equals(PATH + h.label)).findFirst();
            if (host.isEmpty()) {
                ApiServer.json(exchange, 404, Map.of("error", "no hook at " + path + ": use " + PATH + "github or " + PATH + "gitlab"));
                return;
            }
            if (!exchange.getRequestMethod().equals("POST")) {
                exchange.getResponseHeaders().set("Allow", "POST");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            if (secret.isEmpty()) {
                ApiServer.json(exchange, 503, Map.of("error", "webhooks are off: set " + SECRET_ENV
                        + " in the service's environment to the hook's secret and restart it"));
                return;
            }
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readNBytes(MAX_BODY + 1);
            }
            if (body.length > MAX_BODY) {
                ApiServer.json(exchange, 413, Map.of("error", "the payload is larger than 25 MB, which no push hook sends"));
                return;
            }
            if (!host.get().authentic(exchange.getRequestHeaders(), secret.get(), body)) {
                LOG.warn("refused a {} webhook from {}: not signed with the shared secret", host.get().label,
                        exchange.getRemoteAddress().getAddress().getHostAddress());
                ApiServer.json(exchange, 401, Map.of("error", host.get().refusal()));
                return;
            }
            String event = exchange.getRequestHeaders().getFirst(host.get().eventHeader);
            if (host.get() == Host.GITHUB && "ping".equals(event)) {
                ApiServer.json(exchange, 200, Map.of("message", "pong: the secret matches; pushes will build"));
                return;
            }
            if (!host.get().pushEvent.equals(event)) {
                ApiServer.json(exchange, 202, Map.of("message", "event " + event + " ignored: only " + host.get().pushEvent + " builds"));
                return;
            }
            Optional<PushEvent> push;
            try {
                push = host.get().push(JSON.readTree(body));
            } catch (RuntimeException e) {
                ApiServer.json(exchange, 400, Map.of("error", "the body is not a JSON document: send the push payload as"
                        + " application/json"));
                return;
            }
            if (push.isEmpty()) {
                ApiServer.json(exchange, 400, Map.of("error", "the push payload lacks ref, before, after (commit ids) or the"
                        + " pusher's name"));
                return;
            }
            answer(exchange, push.get(), clock);
        } catch (RuntimeException e) {
            ApiServer.failed(exchange, e, LOG);
        } finally {
            exchange.close();
        }
    }

    /** Queues the build the push asks for, or says why there is nothing to build. */
    private void answer(HttpExchange exchange, PushEvent push, Clock clock) throws IOException {
        String pushed = push.ref() + " " + abbreviate(push.before()) + ".." + abbreviate(push.after());
        switch (push.plan(releaseBranch)) {
            case PushEvent.Plan.Nothing nothing -> nothingToBuild(exchange, push, pushed, nothing.reason());
            case PushEvent.Plan.Build build -> {
                String commit = source.resolve(build.commit());
                String base = build.since();
                String since;
                try {
                    since = source.resolve(base);
                } catch (KilnException gone) {
                    if (gone.exitCode() != KilnException.BAD_INPUT || base.equals(releaseBranch)) {
                        throw gone;
                    }
                    // a force push: the commit the branch named before is no longer in the repository
                    if (build.mode() == ServiceBuild.Mode.PUBLISH) {
                        nothingToBuild(exchange, push, pushed, "the commit before the push, " + abbreviate(base)
                                + ", is not in the repository (a force push?): submit a build of the packages it changed");
                        return;
                    }
                    base = releaseBranch; // as for a new branch
                    since = source.resolve(base);
                }
                Set<String> changed;
                try (DefinitionRepository git = DefinitionRepository.open(source.root())) {
                    changed = BuildService.changedPackages(git, since, git.snapshot(commit, List.of()), builder);
                }
                if (changed.isEmpty()) {
                    nothingToBuild(exchange, push, pushed, "no package changed since " + abbreviate(base));
                    return;
                }
                ServiceBuild b = runner.submit(List.of(), Optional.of(since), commit, build.mode(), false, push.pusher());
                runner.queue().audit(push.pusher(), "push", pushed + ": build #" + b.id() + " (" + build.mode().label() + ")");
                LOG.info("push by {} of {}: build #{} ({})", push.pusher(), pushed, b.id(), build.mode().label());
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("message", "build #" + b.id() + " queued: " + build.mode().label() + " of what changed since " + abbreviate(base));
                doc.put("build", b.document(clock.instant()));
                exchange.getResponseHeaders().set("Location", BuildsApi.PATH + "/" + b.id());
                ApiServer.json(exchange, 201, doc);
            }
        }
    }

    private void nothingToBuild(HttpExchange exchange, PushEvent push, String pushed, String reason) throws IOException {
        runner.queue().audit(push.pusher(), "push", pushed + ": nothing to build (" + reason + ")");
        LOG.info("push by {} of {}: nothing to build ({})", push.pusher(), pushed, reason);
        ApiServer.json(exchange, 200, Map.of("message", "nothing to build: " + reason));
    }

    private static String abbreviate(String commit) {
        return commit.matches("[0-9a-f]{40}") ? commit.substring(0, 12) : commit;
    }
}
