package dev.kiln.service;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tells {@code service.notify} (an http(s) URL) of each build that ended: it POSTs a JSON
 * document (id, packages, ref, commit, mode, submitter, state, exit code, message, duration, the
 * build's URL in the API), signed in {@value #SIGNATURE} with {@value #SECRET_ENV} when that is
 * set, the way GitHub signs its hooks. Each delivery runs on its own virtual thread, so a slow or
 * dead receiver never holds up the build runner; it is tried {@value #TRIES} times, waiting
 * longer each time, and a failure is logged with the URL's scheme, host and path only (its query
 * or user part may hold a token).
 */
public final class BuildNotifier implements Consumer<ServiceBuild> {

    /** The environment variable holding the secret that signs notifications. */
    public static final String SECRET_ENV = "KILN_SERVICE_NOTIFY_SECRET";
    /** The header carrying {@code sha256=<hex HMAC-SHA256 of the body>}. */
    public static final String SIGNATURE = "X-Kiln-Signature-256";
    static final int TRIES = 3;
    private static final Logger LOG = LoggerFactory.getLogger(BuildNotifier.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final URI target;
    private final Optional<String> secret;
    private final Supplier<Optional<URI>> api;
    private final Duration backoff;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    /**
     * @param api the service's base URL, for the build's URL in the document (empty until it serves)
     * @param backoff the wait after the first failed try; it doubles after each one
     */
    BuildNotifier(URI target, Optional<String> secret, Supplier<Optional<URI>> api, Duration backoff) {
        this.target = target;
        this.secret = secret;
        this.api = api;
        this.backoff = backoff;
    }

    /**
     * What tells {@code service.notify} of ended builds, signing with {@value #SECRET_ENV} from
     * {@code env}; without the setting, what tells no one.
     */
    public static Consumer<ServiceBuild> of(Optional<URI> notify, Map<String, String> env, Supplier<Optional<URI>> api) {
        String s = env.get(SECRET_ENV);
        Optional<String> secret = s == null || s.isBlank() ? Optional.empty() : Optional.of(s);
        return notify.<Consumer<ServiceBuild>>map(uri -> new BuildNotifier(uri, secret, api, Duration.ofSeconds(2))).orElse(b -> { });
    }

    /** Starts delivering the notification of {@code ended} and returns at once. */
    @Override
    public void accept(ServiceBuild ended) {
        byte[] body = JSON.writeValueAsBytes(document(ended, api.get()));
        Thread.ofVirtual().name("kiln-notify-" + ended.id()).start(() -> deliver(ended.id(), body));
    }

    /** What the receiver gets: the build as the API shows it, with its URL there. */
    static Map<String, Object> document(ServiceBuild b, Optional<URI> api) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("id", b.id());
        doc.put("packages", b.packages().isEmpty() ? built(b) : b.packages());
        doc.put("changedSince", b.changedSince().orElse(null));
        doc.put("ref", b.ref());
        doc.put("commit", b.commit());
        doc.put("mode", b.mode().label());
        doc.put("submitter", b.submitter());
        doc.put("state", b.state().label());
        doc.put("exitCode", b.exitCode().orElse(null));
        doc.put("message", b.message().orElse(null));
        doc.put("durationMillis", b.started().map(s -> Duration.between(s, b.finished().orElse(s)).toMillis()).orElse(null));
        doc.put("url", api.map(base -> base.resolve(BuildsApi.PATH.substring(1) + "/" + b.id()).toString()).orElse(null));
        return doc;
    }

    /** The packages a build of what changed went through, from its result. */
    private static List<String> built(ServiceBuild b) {
        List<String> names = new ArrayList<>();
        b.result().map(JSON::readTree).ifPresent(doc -> doc.path("builds").forEach(p -> names.add(p.path("package").asString())));
        return names;
    }

    private void deliver(long id, byte[] body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("User-Agent", "kiln-service")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        secret.ifPresent(s -> request.header(SIGNATURE, WebhookSignature.sign(s, body)));
        Duration wait = backoff;
        for (int attempt = 1; attempt <= TRIES; attempt++) {
            String failure;
            try {
                int status = http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status / 100 == 2) {
                    LOG.debug("notified {} of build #{}", shown(target), id);
                    return;
                }
                failure = "HTTP " + status;
            } catch (IOException e) {
                String said = e.getMessage() == null ? "" : ": " + e.getMessage().replace(target.toString(), shown(target));
                failure = e.getClass().getSimpleName() + said;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (attempt == TRIES) {
                LOG.warn("notifying {} of build #{} failed {} times, the last with {}; giving up", shown(target), id, TRIES, failure);
                return;
            }
            LOG.warn("notifying {} of build #{} failed ({}); trying again in {} ms", shown(target), id, failure, wait.toMillis());
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            wait = wait.multipliedBy(2);
        }
    }

    /** The URL without its user part and query, which may hold credentials. */
    static String shown(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }
}
