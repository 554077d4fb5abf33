package dev.kiln.service;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.container.DockerEngine;
import dev.kiln.git.SourceMirror;
import dev.kiln.pipeline.BuildListener;
import dev.kiln.pipeline.BumpResult;
import dev.kiln.pipeline.BumpService;
import dev.kiln.pipeline.BuildOutcome;
import dev.kiln.pipeline.BuildRequest;
import dev.kiln.pipeline.BuildRun;
import dev.kiln.pipeline.BuildService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs the service's queued builds: at most {@code service.builds} at once for the whole service,
 * the next one always of the submitter with the fewest builds running (oldest first among equals),
 * so one engineer's mass rebuild cannot starve another's single build. Each build runs the same
 * pipeline as {@code kiln build --rev <commit>}, on the one engine connection and key the service
 * holds, its containers labelled {@value #LABEL} with the build's id: cancelling removes them at
 * once. A build is stopped when it passes {@code service.deadline} or its log stays silent for
 * {@code service.silence}.
 *
 * <p>At start, builds the last process left running start once more (see {@link BuildQueue#recover})
 * and their containers are removed first.
 */
public final class BuildRunner implements AutoCloseable {

    /** The label naming the service build a container belongs to. */
    public static final String LABEL = "dev.kiln.service-build";
    private static final Logger LOG = LoggerFactory.getLogger(BuildRunner.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration WATCH = Duration.ofMillis(500);

    private final KilnConfig config;
    private final SourceMirror source;
    private final BuildQueue queue;
    private final BuildLogs logs;
    private final BuildService.Resident resident;
    private final ServiceMetrics metrics;
    private final Map<String, String> env;
    private final Consumer<ServiceBuild> ended;
    private final Map<Long, Running> running = new ConcurrentHashMap<>();
    private final ExecutorService builds = Executors.newVirtualThreadPerTaskExecutor();
    private final Object wake = new Object();
    private final Thread dispatcher = Thread.ofPlatform().daemon().name("kiln-dispatch").unstarted(this::dispatch);
    private volatile boolean closing;

    /** A build that runs now, with why it is being stopped, if it is. */
    private static final class Running {
        final ServiceBuild build;
        final long started = System.nanoTime();
        volatile BuildLogs.Live log;
        volatile String stopping;
        volatile boolean cancelled;

        Running(ServiceBuild build) {
            this.build = build;
        }
    }

    /**
     * @param resident the engine connection and key the service holds for all its builds
     * @param env where targets' credentials come from
     * @param ended told of each build that ended (not of one the service's stop interrupts); it must return at once
     */
    public BuildRunner(KilnConfig config, SourceMirror source, BuildQueue queue, BuildLogs logs, BuildService.Resident resident,
            ServiceMetrics metrics, Map<String, String> env, Consumer<ServiceBuild> ended) {
        this.ended = ended;
        this.metrics = metrics;
        this.config = config;
        this.source = source;
        this.queue = queue;
        this.logs = logs;
        this.resident = resident;
        this.env = env;
    }

    /** Recovers what a stopped service left, then starts running queued builds. */
    public BuildRunner start() {
        int removed = resident.engine().removeContainers(LABEL, null);
        List<ServiceBuild> interrupted = queue.recover();
        if (!interrupted.isEmpty() || removed > 0) {
            LOG.info("recovered {} build(s) left running, removed {} container(s)", interrupted.size(), removed);
        }
        metrics.gauges(() -> queue.counts().get(ServiceBuild.State.QUEUED), running::size);
        dispatcher.start();
        return this;
    }

    public BuildQueue queue() {
        return queue;
    }

    public BuildLogs logs() {
        return logs;
    }

    /** Resolves the ref (and the --changed-since ref) to commits, then queues the build. */
    public ServiceBuild submit(List<String> packages, Optional<String> changedSince, String ref, ServiceBuild.Mode mode,
            boolean acceptChanges, String submitter) {
        return submit(packages, changedSince, ref, mode, acceptChanges, Optional.empty(), submitter);
    }

    /** Queues a build, or with {@code bump} a bump of the one package named. */
    public ServiceBuild submit(List<String> packages, Optional<String> changedSince, String ref, ServiceBuild.Mode mode,
            boolean acceptChanges, Optional<ServiceBuild.Bump> bump, String submitter) {
        if (bump.isPresent() && (packages.size() != 1 || changedSince.isPresent())) {
            throw KilnException.badInput("a bump names exactly one package");
        }
        if (packages.isEmpty() == changedSince.isEmpty()) {
            throw KilnException.badInput("name packages, or give changedSince: exactly one of them");
        }
        for (String p : packages) {
            if (!p.matches("[A-Za-z0-9][A-Za-z0-9._+-]*")) {
                throw KilnException.badInput("package '" + p + "' is not a package name");
            }
        }
        String commit = source.resolve(ref);
        Optional<String> since = changedSince.map(source::resolve);
        return queued(new BuildQueue.Submission(packages, since, ref, commit, mode, acceptChanges, bump), submitter);
    }

    private ServiceBuild queued(BuildQueue.Submission submission, String submitter) {
        ServiceBuild b = queue.submit(submission, submitter);
        metrics.buildQueued();
        signal();
        return b;
    }

    /**
     * Cancels a queued or running build; a running one's containers are removed at once.
     *
     * @return the state it had, or empty when it had ended already
     */
    public Optional<ServiceBuild.State> cancel(long id, String actor) {
        Optional<ServiceBuild.State> was = queue.cancel(id, actor, "cancelled by " + actor);
        if (was.equals(Optional.of(ServiceBuild.State.QUEUED))) {
            metrics.buildFinished("cancelled", Duration.ZERO);
            ended(id);
        }
        Running r = running.get(id);
        if (r != null && was.isPresent()) {
            r.cancelled = true;
            stop(r, "cancelled by " + actor);
        }
        signal();
        return was;
    }

    /** Queues a new build of what an ended one built, at the same commit. */
    public ServiceBuild resubmit(ServiceBuild b, String submitter) {
        return queued(new BuildQueue.Submission(b.packages(), b.changedSince(), b.ref(), b.commit(), b.mode(), b.acceptChanges(),
                b.bump()), submitter);
    }

    private void stop(Running r, String why) {
        if (r.stopping == null) {
            r.stopping = why;
        }
        BuildLogs.Live log = r.log;
        if (log != null) {
            log.append("notice", "stopping: " + why);
        }
        int removed = resident.engine().removeContainers(LABEL, Long.toString(r.build.id()));
        LOG.info("build #{}: {} ({} container(s) removed)", r.build.id(), why, removed);
    }

    private void ended(long id) {
        try {
            queue.get(id).ifPresent(ended);
        } catch (RuntimeException e) {
            LOG.warn("telling of the end of build #{} failed", id, e);
        }
    }

    private void signal() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void dispatch() {
        while (!closing) {
            try {
                startWhatFits();
                watch();
                synchronized (wake) {
                    wake.wait(WATCH.toMillis());
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // a database that went away for a moment: the queue is still there the next time round
                LOG.warn("dispatching builds failed; trying again", e);
            }
        }
    }

    private void startWhatFits() {
        while (!closing && running.size() < config.service().builds()) {
            Optional<ServiceBuild> next = fairest(queue.queued(), running.values().stream().map(r -> r.build).toList());
            if (next.isEmpty()) {
                return;
            }
            ServiceBuild b = next.get();
            if (!queue.start(b.id())) {
                continue; // cancelled meanwhile
            }
            ServiceBuild started = queue.get(b.id()).orElseThrow();
            metrics.buildStarted(started.waited(queue.clock().instant()));
            Running r = new Running(started);
            running.put(b.id(), r);
            builds.execute(() -> run(r));
        }
    }

    /**
     * The queued build to start next: of the submitter with the fewest builds running, the oldest
     * among equals; never one that names a package a running build names (the second build of a
     * package waits for the first, and then usually finds it up to date instead of racing it to
     * the repository).
     */
    static Optional<ServiceBuild> fairest(List<ServiceBuild> queued, List<ServiceBuild> runningBuilds) {
        Map<String, Integer> busy = new HashMap<>();
        java.util.Set<String> building = new java.util.HashSet<>();
        for (ServiceBuild r : runningBuilds) {
            busy.merge(r.submitter(), 1, Integer::sum);
            building.addAll(r.packages());
        }
        return queued.stream().filter(b -> b.packages().stream().noneMatch(building::contains))
                .min(Comparator.<ServiceBuild>comparingInt(b -> busy.getOrDefault(b.submitter(), 0)).thenComparingLong(ServiceBuild::id));
    }

    /** Stops builds past their deadline or silent too long. */
    private void watch() {
        long now = System.nanoTime();
        for (Running r : running.values()) {
            BuildLogs.Live log = r.log;
            if (r.stopping != null || log == null) {
                continue;
            }
            if (now - r.started > config.service().deadline().toNanos()) {
                stop(r, "took longer than service.deadline (" + human(config.service().deadline()) + ")");
            } else if (now - log.lastWrite() > config.service().silence().toNanos()) {
                stop(r, "its log was silent for service.silence (" + human(config.service().silence()) + ")");
            }
        }
    }

    private static String human(Duration d) {
        return d.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
    }

    private void run(Running r) {
        ServiceBuild b = r.build;
        ServiceBuild.State state = ServiceBuild.State.FAILED;
        int exit = KilnException.INTERNAL;
        String message = null;
        String result = null;
        try {
            r.log = logs.open(b.id());
            BuildLogs.Live log = r.log;
            log.append("stage", "Start: build #" + b.id() + " of " + (b.packages().isEmpty() ? "what changed since "
                    + b.changedSince().orElseThrow() : String.join(" ", b.packages())) + " at " + b.ref() + " (" + b.commit()
                    + "), " + b.mode().label() + (b.attempt() > 1 ? ", attempt " + b.attempt() : ""));
            KilnConfig at = config.withDefinitions(source.root(), source.provenanceUri());
            BuildListener listener = new BuildListener() {
                @Override
                public void stage(String name) {
                    log.append("stage", name);
                    if (r.stopping != null) {
                        // every stage begins here: a stopped build goes no further
                        throw KilnException.interrupted();
                    }
                }

                @Override
                public void notice(String text) {
                    log.append("notice", text);
                }

                @Override
                public void log(String line) {
                    log.append("log", line);
                }

                @Override
                public void publishFailed(String target) {
                    metrics.publishFailed(target);
                }
            };
            BuildService.Resident lent = new BuildService.Resident(resident.engine().labelled(Map.of(LABEL, Long.toString(b.id()))),
                    resident.key());
            if (b.bump().isPresent()) {
                result = JSON.writeValueAsString(bump(b, b.bump().get(), listener, lent));
                exit = 0;
                state = ServiceBuild.State.SUCCEEDED;
            } else {
                List<String> command = new ArrayList<>(List.of("kiln", "serve", "build", "#" + b.id()));
                command.addAll(b.packages());
                b.changedSince().ifPresent(s -> command.add("--changed-since=" + s));
                command.add("--rev=" + b.commit());
                BuildRequest request = new BuildRequest(b.changedSince().<BuildRequest.Selection>map(BuildRequest.Selection.ChangedSince::new)
                        .orElseGet(() -> new BuildRequest.Selection.Named(b.packages())), b.commit(), 1,
                        BuildRequest.publishing(b.mode() == ServiceBuild.Mode.PUBLISH, b.acceptChanges()), command);
                BuildRun run = new BuildService(at, listener, at.target(Optional.empty()), env).with(lent).run(request);
                result = JSON.writeValueAsString(run.document(at));
                exit = run.exitCode();
                state = exit == 0 ? ServiceBuild.State.SUCCEEDED : ServiceBuild.State.FAILED;
                message = run.outcomes().stream().filter(BuildOutcome.Failed.class::isInstance)
                        .map(o -> ((BuildOutcome.Failed) o).message()).findFirst().orElse(run.note().isEmpty() ? null : run.note());
            }
        } catch (KilnException e) {
            exit = e.exitCode();
            message = e.getMessage();
        } catch (RuntimeException | Error e) {
            LOG.error("build #{} failed in the service", b.id(), e);
            message = "the service failed: " + e;
        } finally {
            if (r.stopping != null && state != ServiceBuild.State.SUCCEEDED) {
                message = "stopped: " + r.stopping;
                exit = KilnException.BUILD_FAILED;
            }
            try {
                ended(r, state, exit, message, result);
            } finally {
                // whatever recording the end did, the slot is free again
                logs.close(b.id());
                running.remove(b.id());
                signal();
            }
        }
    }

    /** Records how a build ended: in the database, the metrics and the end of its log. */
    private void ended(Running r, ServiceBuild.State state, int exit, String message, String result) {
        ServiceBuild b = r.build;
        Duration took = Duration.ofNanos(System.nanoTime() - r.started);
        if (closing) {
            // left running in the database: the next start runs it once more
            metrics.buildFinished("interrupted", took);
            return;
        }
        queue.finish(b.id(), state, exit, message, result);
        metrics.buildFinished((r.cancelled ? ServiceBuild.State.CANCELLED : state).label(), took);
        BuildLogs.Live log = r.log;
        if (log != null) {
            ServiceBuild.State now = queue.get(b.id()).map(ServiceBuild::state).orElse(state);
            log.append("end", now.label() + (message == null ? "" : ": " + message));
        }
        ended(b.id());
    }

    /**
     * A bump at the build's commit, in a work tree of its own: the edit is committed there as the
     * engineer who asked, the branch is pushed to the packaging repository, and the bumped package
     * is built from the work tree (published unless it is a scratch build).
     */
    private Map<String, Object> bump(ServiceBuild b, ServiceBuild.Bump order, BuildListener listener, BuildService.Resident lent) {
        Path work = config.state().resolve("service").resolve("work").resolve(Long.toString(b.id()));
        try (SourceMirror.Worktree tree = source.worktree(b.commit(), work, order.authorName(), order.authorEmail())) {
            // a work tree of the build's commit, pushed to the packaging repository as the bump's branch
            KilnConfig at = config.withDefinitions(tree.root(), source.provenanceUri());
            BumpResult r = new BumpService(at, listener).with(lent).bump(order.request(b.packages().getFirst(), b.mode()),
                    (branch, commit) -> {
                        listener.stage("Start: push branch " + branch);
                        tree.push(branch);
                        listener.notice("pushed branch " + branch + " (" + commit.substring(0, 12) + "): git fetch origin " + branch);
                    });
            return r.document(at);
        }
    }

    /**
     * Stops dispatching and stops the running builds, removing their containers. They stay
     * running in the database: the next start runs them once more.
     */
    @Override
    public void close() {
        closing = true;
        dispatcher.interrupt();
        for (Running r : running.values()) {
            stop(r, "the service is stopping");
        }
        builds.shutdown();
        try {
            builds.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            dispatcher.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
