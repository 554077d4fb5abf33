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

import java.io.BufferedOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One build container: created locked down (no network, uid 1000, no capabilities, no privilege
 * gain, memory and process limits), run once with its inputs as a tar on its stdin, its log
 * streamed and its results as a tar on its stdout (see {@link Exchange}), and always removed, also
 * when the JVM is stopped with Ctrl-C.
 *
 * <pre>{@code
 * Exchange files = Exchange.into("/home/builder").andBack("/home/builder/out");
 * try (BuildContainer c = BuildContainer.create(engine, image, limits, List.of("sh", "build.sh"), Map.of(), files)) {
 *     BuildContainer.Result r = c.run(Map.of("build.sh", Content.of(script)), log::line, hostDir);   // r.exitCode(), r.files()
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
    private final Optional<Exchange> exchange;
    private final ExitHook removal;

    static {
        // docker-java's thread that copies a container's stdin dies with an exception when the
        // container ends before it took everything (killed, cancelled): no error of its own, and the
        // run reports what happened. Any other thread's uncaught exception is printed as before.
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            if (thread.getName().startsWith("docker-java-httpclient5-hijacking-stream-")) {
                return;
            }
            if (previous != null) {
                previous.uncaughtException(thread, e);
            } else {
                System.err.print("Exception in thread \"" + thread.getName() + "\" ");
                e.printStackTrace();
            }
        });
    }

    private BuildContainer(DockerClient client, String id, ContainerLimits limits, Optional<Exchange> exchange) {
        this.client = client;
        this.id = id;
        this.limits = limits;
        this.exchange = exchange;
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

    /**
     * How files go in and out of a container: a tar on its stdin is unpacked into {@code inputDir}
     * before the command runs, and once the command succeeded, {@code outputDir} (unless it is "")
     * comes back as a tar on its stdout; the command's own stdout joins its stderr in the log. The
     * image needs {@code sh} and {@code tar}. Streamed instead of the engine's archive API, which
     * mounts the container's file system for each call: about 50 ms a call on docker 20.10, a third
     * of what a small build spends around its rpmbuild.
     */
    public record Exchange(String inputDir, String outputDir) {

        /** Unpacks the tar on stdin, then runs the command; the command's output is the log. */
        private static final String SCRIPT = """
                in=$1 out=$2; shift 2
                tar -x --no-same-owner -f - -C "$in" || { echo "kiln: the tar on stdin could not be unpacked into $in" >&2; exit 125; }
                "$@" </dev/null >&2 || exit
                if [ -z "$out" ] || [ ! -d "$out" ]; then exit 0; fi
                exec tar -c -f - -C "${out%/*}" "${out##*/}"
                """;

        public Exchange {
            if (!inputDir.startsWith("/") || !(outputDir.isEmpty() || outputDir.startsWith("/") && outputDir.lastIndexOf('/') > 0)) {
                throw new IllegalArgumentException("absolute folders below / expected: " + inputDir + ", " + outputDir);
            }
        }

        /** Files go into {@code inputDir}; nothing comes back. */
        public static Exchange into(String inputDir) {
            return new Exchange(inputDir, "");
        }

        /** Also hands back {@code outputDir} (an absolute path, not "/") after the command succeeded. */
        public Exchange andBack(String outputDir) {
            return new Exchange(inputDir, outputDir);
        }

        List<String> wrap(List<String> command) {
            List<String> wrapped = new ArrayList<>(List.of("sh", "-c", SCRIPT, "kiln-exchange", inputDir, outputDir));
            wrapped.addAll(command);
            return wrapped;
        }
    }

    /** How a run with an {@link Exchange} ended: the command's exit code and the files it handed back (none unless 0). */
    public record Result(int exitCode, List<Path> files) {
    }

    /** A container whose command gets no input (stdin is closed) and whose stdout and stderr are both the log. */
    public static BuildContainer create(DockerEngine engine, String imageId, ContainerLimits limits,
                                        List<String> command, Map<String, String> env) {
        return create(engine, imageId, limits, command, env, Optional.empty(), RunAs.BUILDER);
    }

    /** A container that exchanges files with its command over stdin and stdout, as {@code files} says; run it with {@link #run(InputStream, Consumer)}. */
    public static BuildContainer create(DockerEngine engine, String imageId, ContainerLimits limits,
                                        List<String> command, Map<String, String> env, Exchange files) {
        return create(engine, imageId, limits, command, env, Optional.of(files), RunAs.BUILDER);
    }

    static BuildContainer create(DockerEngine engine, String imageId, ContainerLimits limits,
                                 List<String> command, Map<String, String> env, Optional<Exchange> exchange, RunAs runAs) {
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
                .withCmd(exchange.map(files -> files.wrap(command)).orElse(command))
                // Open only for the one attach that sends the tar, as `docker run -i` does.
                .withStdinOpen(exchange.isPresent())
                .withStdInOnce(exchange.isPresent())
                .withAttachStdin(exchange.isPresent())
                .withEnv(env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList())
                .withUser(runAs.user())
                .withLabels(labels(engine))
                .withNetworkDisabled(true)
                .withHostConfig(host)
                .exec()
                .getId();
        return new BuildContainer(engine.client(), id, limits, exchange);
    }

    /** The engine's id of this container. */
    public String id() {
        return id;
    }

    /**
     * Starts the container and streams stdout and stderr line by line to {@code logLine} until the
     * command ends; returns its exit code. Lines longer than {@link ContainerLimits#LOG_LINE_BYTES}
     * arrive in marked pieces. The whole stream is read before the exit code (nothing is dropped after
     * a fixed grace time); the build's time limit bounds both, and past it the container is killed
     * and this throws.
     */
    public int run(Consumer<String> logLine) {
        if (exchange.isPresent()) {
            throw new IllegalStateException("container " + id + " waits for its input: run it with run(files, ...)");
        }
        return execute(null, logLine, null);
    }

    /**
     * As {@link #run(Consumer)}, with {@code files} (relative path -> content) put into the exchange's
     * input folder, owned by the build user. Files of {@value #LARGE} bytes or more go in with one
     * archive call of the engine before the start (about 50 ms, then hundreds of MB/s); the rest as a
     * tar on stdin, which the engine client copies 1 KiB at a time (tens of MB/s). A file that cannot
     * be read kills the container and is thrown.
     */
    public int run(Map<String, ContainerArchive.Content> files, Consumer<String> logLine) {
        return run(files, ContainerArchive.Owner.BUILDER, logLine);
    }

    /** As {@link #run(Map, Consumer)}, the files owned by {@code owner}. */
    int run(Map<String, ContainerArchive.Content> files, ContainerArchive.Owner owner, Consumer<String> logLine) {
        try (InputStream tar = send(files, owner)) {
            return run(tar, logLine);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * As {@link #run(Map, Consumer)}, and when the command succeeded, copies the regular files of the
     * exchange's output folder into {@code hostDir} (see {@link ContainerArchive#extract}). A command
     * that left no output folder is a build failure naming it.
     */
    public Result run(Map<String, ContainerArchive.Content> files, Consumer<String> logLine, Path hostDir) {
        try (InputStream tar = send(files, ContainerArchive.Owner.BUILDER)) {
            return run(tar, logLine, hostDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Files at least this large go in through the engine's archive call, see {@link #run(Map, Consumer)}. */
    static final long LARGE = 1 << 20;

    /** Copies the large files in at once and returns the tar of the others, for stdin. */
    private InputStream send(Map<String, ContainerArchive.Content> files, ContainerArchive.Owner owner) throws IOException {
        Map<String, ContainerArchive.Content> large = new TreeMap<>();
        Map<String, ContainerArchive.Content> small = new TreeMap<>();
        for (Map.Entry<String, ContainerArchive.Content> f : files.entrySet()) {
            (f.getValue().size() >= LARGE ? large : small).put(f.getKey(), f.getValue());
        }
        if (!large.isEmpty()) {
            try (InputStream tar = ContainerArchive.stream(large, owner)) {
                client.copyArchiveToContainerCmd(id).withTarInputStream(tar).withRemotePath(exchange().inputDir()).exec();
            }
        }
        return ContainerArchive.stream(small, owner);
    }

    /** As {@link #run(Map, Consumer)} with the tar at hand; a failure to read it kills the container and is thrown. */
    int run(InputStream input, Consumer<String> logLine) {
        if (!exchange().outputDir().isEmpty()) {
            throw new IllegalStateException("container " + id + " hands " + exchange().outputDir() + " back: run it with run(files, logLine, hostDir)");
        }
        return execute(input, logLine, null);
    }

    /** As {@link #run(Map, Consumer, Path)} with the tar at hand. */
    Result run(InputStream input, Consumer<String> logLine, Path hostDir) {
        String outputDir = exchange().outputDir();
        if (outputDir.isEmpty()) {
            throw new IllegalStateException("container " + id + " hands nothing back: its exchange names no output folder");
        }
        Path spool = null;
        try {
            spool = Files.createTempFile(Files.createDirectories(hostDir), ".kiln-out-", ".tar");
            try (Spool out = new Spool(spool, this::killQuietly)) {
                int exit = execute(input, logLine, out);
                if (exit != 0) {
                    return new Result(exit, List.of());
                }
                out.close();
                if (out.overflowed()) {
                    throw ContainerArchive.tooMuch("more than " + (ContainerLimits.OUTPUT_MAX_BYTES >> 30) + " GiB (the output size limit)");
                }
                if (out.bytes() == 0) {
                    throw KilnException.buildFailed("The build left no " + outputDir + " in its container: check that the build writes there");
                }
                try (InputStream tar = Files.newInputStream(spool)) {
                    return new Result(exit, ContainerArchive.extract(tar, hostDir));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (spool != null) {
                try {
                    Files.deleteIfExists(spool);
                } catch (IOException ignored) {
                    // A temporary file; nothing else depends on it.
                }
            }
        }
    }

    private Exchange exchange() {
        return exchange.orElseThrow(() -> new IllegalStateException("container " + id + " was created without an exchange: run it with run(logLine)"));
    }

    /** {@code input} null: stdin stays closed; {@code stdout} null: stdout is log lines too. */
    private int execute(InputStream input, Consumer<String> logLine, OutputStream stdout) {
        long deadline = System.nanoTime() + limits.timeout().toNanos();
        Input sent = input == null ? null : new Input(input, this::killQuietly);
        // Attached before the start, so no line is missed, and read from the engine as it is written: a
        // reader that falls behind slows the build down instead of losing lines, which following the
        // rotated json-file log does (the engine's follower skips what was rotated away).
        var attach = client.attachContainerCmd(id).withFollowStream(true).withStdOut(true).withStdErr(true);
        if (sent != null) {
            attach.withStdIn(sent);
        }
        LineCallback lines = attach.exec(new LineCallback(logLine, ContainerLimits.LOG_LINE_BYTES, stdout));
        try {
            if (!lines.awaitStarted(ATTACH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw KilnException.environment("The Docker engine did not attach to build container " + id.substring(0, 12)
                        + " within " + human(ATTACH_TIMEOUT) + ": check that the engine is responsive (docker info)");
            }
            client.startContainerCmd(id).exec();
            if (sent != null && sent.failure != null) {
                // It failed before the start, when there was nothing to kill yet.
                killQuietly();
            }
            // The stream ends when the container's stdout and stderr close, normally when it exits.
            if (!lines.awaitCompletion(remaining(deadline), TimeUnit.NANOSECONDS)) {
                throw timedOut();
            }
            lines.flush();
            if (sent != null && sent.failure != null) {
                throw new UncheckedIOException("Sending the build's input to its container failed", sent.failure);
            }
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

    /**
     * The container's input as the engine's copying thread reads it, padded with zeros to whole
     * records of {@value #RECORD} bytes: tar reads its input a record at a time and would wait for
     * the rest of a short last one, as stdin stays open. A failure to read it (a source that cannot
     * be read) kills the container and ends the stream, so the command never waits for the rest of
     * a tar, and the failure is kept for {@link #execute} to throw.
     */
    private static final class Input extends FilterInputStream {
        /** GNU tar's default record (20 blocks of 512 bytes). */
        static final int RECORD = 10240;
        private final Runnable kill;
        private volatile IOException failure;
        private long sent;
        private boolean ended;

        Input(InputStream in, Runnable kill) {
            super(in);
            this.kill = kill;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (failure != null || len == 0) {
                return failure != null ? -1 : 0;
            }
            int n;
            if (ended) {
                n = -1;
            } else {
                try {
                    n = in.read(b, off, len);
                } catch (IOException e) {
                    failure = e;
                    kill.run();
                    return -1;
                }
            }
            if (n < 0) {
                ended = true;
                int padding = (int) Math.min(len, (RECORD - sent % RECORD) % RECORD);
                if (padding == 0) {
                    return -1;
                }
                java.util.Arrays.fill(b, off, off + padding, (byte) 0);
                n = padding;
            }
            sent += n;
            return n;
        }

        /** Closed by the caller, who opened it; the engine's thread must not close it early. */
        @Override
        public void close() {
        }
    }

    /**
     * The tar the command writes to its stdout, kept in a file until the command ended (the files
     * are only taken when it succeeded), up to the output limit plus tar's own overhead per file;
     * past it the container is killed and the rest is dropped.
     */
    private static final class Spool extends OutputStream {
        private static final long LIMIT = ContainerLimits.OUTPUT_MAX_BYTES + ContainerLimits.OUTPUT_MAX_FILES * 4096L;
        private final OutputStream file;
        private final Runnable kill;
        private long bytes;
        private boolean overflowed;
        private boolean closed;

        Spool(Path path, Runnable kill) throws IOException {
            this.file = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16);
            this.kill = kill;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            if (overflowed || closed) {
                return;
            }
            if (bytes + len > LIMIT) {
                overflowed = true;
                kill.run();
                return;
            }
            bytes += len;
            file.write(b, off, len);
        }

        synchronized long bytes() {
            return bytes;
        }

        synchronized boolean overflowed() {
            return overflowed;
        }

        @Override
        public synchronized void close() throws IOException {
            if (!closed) {
                closed = true;
                file.close();
            }
        }
    }

    /**
     * Reassembles lines from the engine's frames, one {@link LineSplitter} per stream (stdout,
     * stderr); with a {@code stdout} stream, stdout's bytes go there as they are instead.
     */
    private static final class LineCallback extends ResultCallback.Adapter<Frame> {
        private final Consumer<String> sink;
        private final int maxLineBytes;
        private final OutputStream stdout;
        private final Map<StreamType, LineSplitter> partial = new EnumMap<>(StreamType.class);
        private IOException stdoutFailure;

        LineCallback(Consumer<String> sink, int maxLineBytes, OutputStream stdout) {
            this.sink = sink;
            this.maxLineBytes = maxLineBytes;
            this.stdout = stdout;
        }

        @Override
        public synchronized void onNext(Frame frame) {
            byte[] payload = frame.getPayload();
            if (stdout != null && frame.getStreamType() == StreamType.STDOUT) {
                if (stdoutFailure == null) {
                    try {
                        stdout.write(payload);
                    } catch (IOException e) {
                        stdoutFailure = e;
                    }
                }
                return;
            }
            partial.computeIfAbsent(frame.getStreamType(), t -> new LineSplitter(sink, maxLineBytes))
                    .accept(payload, 0, payload.length);
        }

        /** Ends the pieces of lines; throws what writing stdout's bytes failed with. */
        synchronized void flush() throws IOException {
            partial.values().forEach(LineSplitter::flush);
            if (stdoutFailure != null) {
                throw stdoutFailure;
            }
        }
    }
}
