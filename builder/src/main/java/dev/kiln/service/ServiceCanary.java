package dev.kiln.service;

import dev.kiln.config.KilnConfig;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.CheckReport;
import dev.kiln.repo.RepositoryCheck;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's own canary: every {@code service.canary} it reads its release target as a user's
 * dnf does ({@link RepositoryCheck}: signed repodata, checksums, the latest package of each name
 * and its signature) and counts the result in {@code kiln_canary_checks_total{target,result}}, so a
 * target broken behind Kiln's back (a lost file, a proxy serving stale metadata) shows on the
 * dashboard and in alerts without a timer of its own. The first check runs one interval after the
 * start; a check never overlaps the next.
 *
 * <pre>{@code
 * try (ServiceCanary canary = ServiceCanary.start(config, check, metrics, System.getenv())) { ... }
 * }</pre>
 */
public final class ServiceCanary implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceCanary.class);

    private final ScheduledExecutorService timer;

    private ServiceCanary(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /** Starts checking the release target every {@code service.canary}; does nothing when it is {@code off}. */
    public static ServiceCanary start(KilnConfig config, RepositoryCheck check, ServiceMetrics metrics, Map<String, String> env) {
        Optional<Duration> every = config.service().canary();
        if (every.isEmpty()) {
            return new ServiceCanary(null);
        }
        TargetConfig target = config.target(Optional.empty());
        Path scratch = config.state().resolve("service").resolve("canary");
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("kiln-canary").factory());
        long period = every.get().toMillis();
        timer.scheduleWithFixedDelay(() -> checkOnce(target, check, metrics, env, config.cache(), scratch), period, period,
                TimeUnit.MILLISECONDS);
        return new ServiceCanary(timer);
    }

    private static void checkOnce(TargetConfig target, RepositoryCheck check, ServiceMetrics metrics, Map<String, String> env,
            Path cache, Path scratch) {
        boolean ok;
        try {
            CheckReport report = check.run(target, List.of(), false, env, cache, scratch);
            ok = report.ok();
            if (!ok) {
                LOG.warn("canary: target {} fails as dnf reads it: {}", target.name(), report.unreachable()
                        .orElseGet(() -> report.failures().getFirst().path() + " " + report.failures().getFirst().detail()
                                + (report.failures().size() > 1 ? " (and " + (report.failures().size() - 1) + " more)" : "")));
            }
        } catch (RuntimeException e) {
            // a failing check is a failed canary, never the end of the timer
            ok = false;
            LOG.warn("canary: checking target {} failed: {}", target.name(), e.getMessage());
        }
        metrics.canaryResult(target.name(), ok);
    }

    /** Stops the timer; a check under way is interrupted. */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
