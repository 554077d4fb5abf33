package dev.kiln.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.StreamType;
import dev.kiln.ExitHook;
import dev.kiln.KilnException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One build container: created locked down (no network, uid 1000, no capabilities, no privilege
 * gain, memory and process limits), fed a tar, run once with its output streamed, emptied of its
 * results, and always removed, also when the JVM is stopped with Ctrl-C.
 *
 * <pre>{@code
 * try (BuildContainer c = BuildContainer.create(engine, image, limits, List.of("sh", "-c", "..."), Map.of())) {
 *     c.copyIn(ContainerArchive.pack(files), "/home/builder");
 *     int rc = c.run(log::line);
 *     c.copyOut("/home/builder/out", hostDir);
 * }
 * }</pre>
 */
public final class BuildContainer implements AutoCloseable {

    /** Label on every build container, so leftovers can be found: {@code docker ps -a --filter label=dev.kiln.build=true}. */
    public static final String LABEL = "dev.kiln.build";
    static final String USER = "1000:1000";
    /** How long the engine may take to attach to a created container's output. */
    private static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(30);

    private final DockerClient client;
    private final String id;
    private final ContainerLimits limits;
    private final ExitHook removal;

    private BuildContainer(DockerClient client, String id, ContainerLimits limits) {
        this.client = client;
        this.id = id;
        this.limits = limits;
        // Ctrl-C or SIGTERM: removed at exit; created after the stop began: removed at once.
        this.removal = ExitHook.register("kiln-remove-" + id.substring(0, 12), this::remove);
    }

    /**
     * The labels of every build container: {@link #LABEL}, and {@code dev.kiln.owner} naming this
     * process (boot, pid namespace, pid, start time), so a later run can remove the containers of
     * a run that was killed before it could (see {@link DockerEngine#connect}).
     */
    public static Map<String, String> labels() {
        Map<String, String> labels = new java.util.LinkedHashMap<>();
        labels.put(LABEL, "true");
        RunOwner.current().ifPresent(owner -> labels.put(RunOwner.LABEL, owner.label()));
        return labels;
    }

    /** {@link #labels()} and those of the engine connection ({@link DockerEngine#labelled}). */
    static Map<String, String> labels(DockerEngine engine) {
        Map<String, String> labels = labels();
        labels.putAll(engine.labels());
        return labels;
    }

    /**
     * Who a container runs as: the build user without any capability, or root holding only the
     * capabilities named (for installing RPMs, see {@link DependencyImage}).
     */
    record RunAs(String user, List<Capability> capabilities) {
        static final RunAs BUILDER = new RunAs(USER, List.of());
    }

    public static BuildContainer create(DockerEngine engine, String imageId, ContainerLimits limits,
                                        List<String> command, Map<String, String> env) {
        return create(engine, imageId, limits, command, env, RunAs.BUILDER);
    }

    static BuildContainer create(DockerEngine engine, String imageId, ContainerLimits limits,
                                 List<String> command, Map<String, String> env, RunAs runAs) {
        HostConfig host = HostConfig.newHostConfig()
                .withNetworkMode("none")
                .withCapDrop(Capability.ALL)
                .withSecurityOpts(List.of("no-new-privileges"))
                .withMemory(limits.memoryBytes())
                // Equal to memory: no swap on top, so a runaway build fails instead of thrashing the host.
                .withMemorySwap(limits.memoryBytes())
                .withPidsLimit(limits.pids())
                // The engine's own copy of the output, rotated, so a flood cannot fill the engine's disk.
                .withLogConfig(new LogConfig(LogConfig.LoggingType.JSON_FILE, Map.of(
                        "max-size", ContainerLimits.ENGINE_LOG_MAX_SIZE,
                        "max-file", Integer.toString(ContainerLimits.ENGINE_LOG_FILES))));
        if (!runAs.capabilities().isEmpty()) {
            host.withCapAdd(runAs.capabilities().toArray(Capability[]::new));
        }
        String id = engine.client().createContainerCmd(imageId)
                .withCmd(command)
                .withEnv(env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList())
                .withUser(runAs.user())
                .withLabels(labels(engine))
                .withNetworkDisabled(true)
                .withHostConfig(host)
                .exec()
                .getId();
        return new BuildContainer(engine.client(), id, limits);
    }

    /** The engine's id of this container. */
    public String id() {
        return id;
    }

    /** Unpacks {@code tar} (e.g. from {@link ContainerArchive#pack}) into the existing folder {@code containerPath}. */
    public void copyIn(byte[] tar, String containerPath) {
        copyIn(new ByteArrayInputStream(tar), containerPath);
    }

    public void copyIn(InputStream tar, String containerPath) {
        client.copyArchiveToContainerCmd(id).withTarInputStream(tar).withRemotePath(containerPath).exec();
    }

    /**
     * Starts the container and streams stdout and stderr line by line to {@code logLine} until the
     * command ends; returns its exit code. Lines longer than {@link ContainerLimits#LOG_LINE_BYTES}
     * arrive in marked pieces. The whole stream is read before the exit code (nothing is dropped after
     * a fixed grace time); the build's time limit bounds both, and past it the container is killed
     * and this throws.
     */
    public int run(Consumer<String> logLine) {
        long deadline = System.nanoTime() + limits.timeout().toNanos();
        // Attached before the start, so no line is missed, and read from the engine as it is written: a
        // reader that falls behind slows the build down instead of losing lines, which following the
        // rotated json-file log does (the engine's follower skips what was rotated away).
        LineCallback lines = client.attachContainerCmd(id)
                .withFollowStream(true).withStdOut(true).withStdErr(true)
                .exec(new LineCallback(logLine, ContainerLimits.LOG_LINE_BYTES));
        try {
            if (!lines.awaitStarted(ATTACH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw KilnException.environment("The Docker engine did not attach to build container " + id.substring(0, 12)
                        + " within " + human(ATTACH_TIMEOUT) + ": check that the engine is responsive (docker info)");
            }
            client.startContainerCmd(id).exec();
            // The stream ends when the container's stdout and stderr close, normally when it exits.
            if (!lines.awaitCompletion(remaining(deadline), TimeUnit.NANOSECONDS)) {
                throw timedOut();
            }
            lines.flush();
            try (WaitContainerResultCallback wait = client.waitContainerCmd(id).exec(new WaitContainerResultCallback())) {
                if (!wait.awaitCompletion(remaining(deadline), TimeUnit.NANOSECONDS)) {
                    throw timedOut();
                }
                return wait.awaitStatusCode();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            killQuietly();
            throw KilnException.buildFailed("build interrupted");
        } finally {
            try {
                lines.close();
            } catch (IOException ignored) {
                // The stream is over either way.
            }
        }
    }

    private KilnException timedOut() {
        killQuietly();
        return KilnException.buildFailed("build timed out after " + human(limits.timeout())
                + ": raise the build's timeout if it needs longer");
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    /** Copies the regular files below {@code containerDir} into {@code hostDir}; see {@link ContainerArchive#extract}. */
    public List<Path> copyOut(String containerDir, Path hostDir) {
        try (InputStream tar = client.copyArchiveFromContainerCmd(id, containerDir).exec()) {
            return ContainerArchive.extract(tar, hostDir);
        } catch (NotFoundException e) {
            throw KilnException.buildFailed("The build left no " + containerDir + " in its container: check that the build writes there");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes the container, whatever state it is in. */
    @Override
    public void close() {
        removal.close();
    }

    private void remove() {
        try {
            client.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException gone) {
            // Already removed (by the shutdown hook or by hand).
        }
    }

    private void killQuietly() {
        try {
            client.killContainerCmd(id).exec();
        } catch (RuntimeException ignored) {
            // It may have ended on its own in the meantime; close() removes it either way.
        }
    }

    static String human(Duration d) {
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + " ms";
        }
        long s = d.toSeconds();
        if (s < 120) {
            return s + " s";
        }
        return s % 60 == 0 ? s / 60 + " min" : s + " s";
    }

    /** Reassembles lines from the engine's frames, one {@link LineSplitter} per stream (stdout, stderr). */
    private static final class LineCallback extends ResultCallback.Adapter<Frame> {
        private final Consumer<String> sink;
        private final int maxLineBytes;
        private final Map<StreamType, LineSplitter> partial = new EnumMap<>(StreamType.class);

        LineCallback(Consumer<String> sink, int maxLineBytes) {
            this.sink = sink;
            this.maxLineBytes = maxLineBytes;
        }

        @Override
        public synchronized void onNext(Frame frame) {
            byte[] payload = frame.getPayload();
            partial.computeIfAbsent(frame.getStreamType(), t -> new LineSplitter(sink, maxLineBytes))
                    .accept(payload, 0, payload.length);
        }

        synchronized void flush() {
            partial.values().forEach(LineSplitter::flush);
        }
    }
}
