package dev.kiln.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;

/**
 * What the service tells Prometheus: builds queued, started (with their wait) and finished (by outcome,
 * with their duration), failed publishes and canary checks per target, and how many builds wait and run
 * now. One per service; the build queue calls it, {@code GET /metrics} serves {@link #scrape()}.
 *
 * <p>Labels are bounded on purpose: an outcome, a configured target's name, a canary result. No
 * package name, version or user: each would make a series per value, and Prometheus keeps every
 * series it ever saw for the retention time. A build's package is in its build record, not here.
 *
 * <pre>{@code
 * ServiceMetrics metrics = new ServiceMetrics();
 * metrics.gauges(queue::waiting, queue::running);
 * metrics.buildQueued();
 * metrics.buildStarted(Duration.between(queuedAt, now));
 * metrics.buildFinished("succeeded", Duration.between(startedAt, clock.instant()));
 * }</pre>
 *
 * <p>Thread-safe: the meters are, and so is swapping the gauges' suppliers.
 */
public final class ServiceMetrics {

    /** The outcomes of {@link #buildFinished}; each counter exists at 0 from the start, so {@code rate()} works from the first scrape. */
    public static final List<String> OUTCOMES = List.of("succeeded", "failed", "cancelled", "interrupted");

    /** Buckets for a build: a cached no-op takes seconds, a big package with its tests most of an hour. */
    static final List<Duration> BUILD_BUCKETS = seconds(1, 5, 10, 30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600);
    /** Buckets for a wait in the queue: a tenth of a second when a slot is free, up to an hour behind a backlog. */
    static final List<Duration> WAIT_BUCKETS = seconds(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter queued;
    private final Timer queueWait;
    private final Timer buildDuration;
    private final Map<String, Counter> finished = new LinkedHashMap<>();
    private final AtomicReference<IntSupplier> depth = new AtomicReference<>();
    private final AtomicReference<IntSupplier> running = new AtomicReference<>();

    /** A registry with the build counters at 0 and no gauges until {@link #gauges} is called. */
    public ServiceMetrics() {
        queued = Counter.builder("kiln.builds.queued").description("Builds accepted into the queue").register(registry);
        queueWait = Timer.builder("kiln.build.queue.wait").description("Time a build waited in the queue before it started")
                .serviceLevelObjectives(WAIT_BUCKETS.toArray(Duration[]::new)).register(registry);
        buildDuration = Timer.builder("kiln.build.duration").description("Time from a build's start to its end, whatever its outcome")
                .serviceLevelObjectives(BUILD_BUCKETS.toArray(Duration[]::new)).register(registry);
        for (String outcome : OUTCOMES) {
            finished.put(outcome, Counter.builder("kiln.builds").description("Builds that ended, by outcome")
                    .tag("outcome", outcome).register(registry));
        }
    }

    /** A build was accepted into the queue. */
    public void buildQueued() {
        queued.increment();
    }

    /**
     * A build left the queue and started.
     *
     * @param queueWait from its acceptance to its start
     */
    public void buildStarted(Duration queueWait) {
        this.queueWait.record(queueWait);
    }

    /**
     * A build ended.
     *
     * @param outcome one of {@link #OUTCOMES}: {@code succeeded}, {@code failed}, {@code cancelled} (asked to
     *     stop), {@code interrupted} (the service stopped under it)
     * @param buildTime from its start to its end
     * @throws IllegalArgumentException for any other outcome
     */
    public void buildFinished(String outcome, Duration buildTime) {
        Counter counter = finished.get(outcome);
        if (counter == null) {
            throw new IllegalArgumentException("build outcome " + outcome + " is none of " + OUTCOMES);
        }
        counter.increment();
        buildDuration.record(buildTime);
    }

    /**
     * Makes the series of release target {@code target} at 0, before anything happened: Prometheus'
     * increase() needs a sample before the first failure to see it.
     */
    public void releaseTarget(String target) {
        publishFailures(target);
        canaryChecks(target, true);
        canaryChecks(target, false);
    }

    private Counter publishFailures(String target) {
        return Counter.builder("kiln.publish.failures").description("Publishes that failed, by target")
                .tag("target", Objects.requireNonNull(target)).register(registry);
    }

    private Counter canaryChecks(String target, boolean ok) {
        return Counter.builder("kiln.canary.checks").description("Canary checks of the release target as dnf reads it, by target and result")
                .tag("target", Objects.requireNonNull(target)).tag("result", ok ? "ok" : "failed").register(registry);
    }

    /**
     * A publish to {@code target} failed (the build's packages were not published there).
     *
     * @param target the target's name in kiln.yaml
     */
    public void publishFailed(String target) {
        publishFailures(target).increment();
    }

    /**
     * A canary check of {@code target} ({@link ServiceCanary}) passed or failed.
     *
     * @param target the target's name in kiln.yaml
     */
    public void canaryResult(String target, boolean ok) {
        canaryChecks(target, ok).increment();
    }

    /**
     * Where the gauges {@code kiln_queue_depth} and {@code kiln_builds_running} read from at each scrape.
     * Until the first call there are no such series (rather than a 0 that nobody measured); a later call
     * replaces the suppliers.
     */
    public synchronized void gauges(IntSupplier queued, IntSupplier running) {
        boolean first = depth.getAndSet(Objects.requireNonNull(queued)) == null;
        this.running.set(Objects.requireNonNull(running));
        if (first) {
            Gauge.builder("kiln.queue.depth", depth, d -> d.get().getAsInt()).description("Builds waiting in the queue now")
                    .strongReference(true).register(registry);
            Gauge.builder("kiln.builds.running", this.running, r -> r.get().getAsInt()).description("Builds running now")
                    .strongReference(true).register(registry);
        }
    }

    /** Every metric now, in Prometheus' text exposition format (version 0.0.4). */
    public String scrape() {
        return registry.scrape(contentType());
    }

    /** The {@code Content-Type} of {@link #scrape()}. */
    public String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    private static List<Duration> seconds(double... bounds) {
        return java.util.Arrays.stream(bounds).mapToObj(s -> Duration.ofNanos(Math.round(s * 1e9))).toList();
    }
}
