package dev.kiln.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.StreamType;
import dev.kiln.KilnException;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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

    private final DockerClient client;
    private final String id;
    private final ContainerLimits limits;
    private final Thread removeOnExit;
    private boolean closed;

    private BuildContainer(DockerClient client, String id, ContainerLimits limits) {
        this.client = client;
        this.id = id;
        this.limits = limits;
        this.removeOnExit = new Thread(this::remove, "kiln-remove-" + id.substring(0, 12));
        try {
            Runtime.getRuntime().addShutdownHook(removeOnExit);
        } catch (IllegalStateException shuttingDown) {
            // Created after Ctrl-C: no hook can be added any more, so remove it now rather than leave it.
            remove();
            throw KilnException.interrupted();
        }
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

    public static BuildContainer create(DockerEngine engine, String imageId, ContainerLimits limits,
                                        List<String> command, Map<String, String> env) {
        HostConfig host = HostConfig.newHostConfig()
                .withNetworkMode("none")
                .withCapDrop(Capability.ALL)
                .withSecurityOpts(List.of("no-new-privileges"))
                .withMemory(limits.memoryBytes())
                // Equal to memory: no swap on top, so a runaway build fails instead of thrashing the host.
                .withMemorySwap(limits.memoryBytes())
                .withPidsLimit(limits.pids());
        String id = engine.client().createContainerCmd(imageId)
                .withCmd(command)
                .withEnv(env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList())
                .withUser(USER)
                .withLabels(labels())
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
     * command ends; returns its exit code. After the time limit the container is killed and this throws.
     */
    public int run(Consumer<String> logLine) {
        client.startContainerCmd(id).exec();
        LineCallback lines = client.logContainerCmd(id)
                .withFollowStream(true).withStdOut(true).withStdErr(true)
                .exec(new LineCallback(logLine));
        try (WaitContainerResultCallback wait = client.waitContainerCmd(id).exec(new WaitContainerResultCallback())) {
            if (!wait.awaitCompletion(limits.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                killQuietly();
                throw KilnException.buildFailed("build timed out after " + human(limits.timeout())
                        + ": raise the build's timeout if it needs longer");
            }
            int status = wait.awaitStatusCode();
            // The log stream ends when the container does; wait briefly so the last lines are not lost.
            lines.awaitCompletion(10, TimeUnit.SECONDS);
            lines.flush();
            return status;
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
        if (closed) {
            return;
        }
        closed = true;
        remove();
        try {
            Runtime.getRuntime().removeShutdownHook(removeOnExit);
        } catch (IllegalStateException alreadyShuttingDown) {
            // The hook is running or will run; removing twice is harmless.
        }
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

    /** Reassembles lines from the engine's frames, which split output at arbitrary byte boundaries. */
    private static final class LineCallback extends ResultCallback.Adapter<Frame> {
        private final Consumer<String> sink;
        private final Map<StreamType, ByteArrayOutputStream> partial = new EnumMap<>(StreamType.class);

        LineCallback(Consumer<String> sink) {
            this.sink = sink;
        }

        @Override
        public synchronized void onNext(Frame frame) {
            ByteArrayOutputStream buf = partial.computeIfAbsent(frame.getStreamType(), t -> new ByteArrayOutputStream());
            for (byte b : frame.getPayload()) {
                if (b == '\n') {
                    sink.accept(buf.toString(StandardCharsets.UTF_8));
                    buf.reset();
                } else {
                    buf.write(b);
                }
            }
        }

        synchronized void flush() {
            for (ByteArrayOutputStream buf : partial.values()) {
                if (buf.size() > 0) {
                    sink.accept(buf.toString(StandardCharsets.UTF_8));
                    buf.reset();
                }
            }
        }
    }
}
