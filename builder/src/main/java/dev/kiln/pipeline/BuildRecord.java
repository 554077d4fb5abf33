package dev.kiln.pipeline;

import dev.kiln.container.PinnedImage;
import dev.kiln.source.SourceCache;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The folder a build leaves behind, like mock's result dir: {@code build.log} (stages and the
 * rpmbuild output, its head and tail when it is longer than {@link #LOG_HEAD_BYTES} plus
 * {@link #LOG_TAIL_BYTES}, ending with {@link #END_MARKER}), {@code record.json} (resolved inputs: commit, source checksums, image;
 * outputs and their checksums; the outcome) and the signed RPMs under {@code rpms/}.
 */
final class BuildRecord implements AutoCloseable {

    static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);

    /**
     * Build output kept from the start of the log: the commands, the first warnings and errors. An
     * ordinary rpmbuild log fits whole; a flood is cut instead of filling the records' disk.
     */
    static final long LOG_HEAD_BYTES = 8L << 20;
    /**
     * Build output kept from the end of the log, held in memory until the next stage: rpmbuild's
     * {@code Wrote:} lines, the %clean step, and the last error of a failed build.
     */
    static final long LOG_TAIL_BYTES = 2L << 20;
    /** The last line of every build.log: without it, the log was cut (the process was killed while writing). */
    static final String END_MARKER = "End of build.log";

    private final Path folder;
    private final BufferedWriter log;
    private final Map<String, Object> record = new LinkedHashMap<>();
    private long headLeft = LOG_HEAD_BYTES;
    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private long tailBytes;
    private long leftOutLines;
    private long leftOutBytes;

    private BuildRecord(Path folder, BufferedWriter log) {
        this.folder = folder;
        this.log = log;
    }

    static BuildRecord create(Path records, PackageInputs in) {
        Instant now = Instant.now();
        Path folder = records.resolve(in.packageName()).resolve(STAMP.format(now));
        try {
            Files.createDirectories(folder);
            BuildRecord r = new BuildRecord(folder, Files.newBufferedWriter(folder.resolve("build.log"), StandardCharsets.UTF_8));
            r.record.put("package", in.packageName());
            r.record.put("started", now.toString());
            r.record.put("status", "failed");
            Map<String, Object> git = new LinkedHashMap<>();
            git.put("rev", in.snapshot().rev());
            git.put("commit", in.snapshot().commit());
            git.put("dirty", in.snapshot().dirty());
            r.record.put("git", git);
            r.record.put("spec", Map.of("path", in.specPath(), "sha512", SourceCache.sha512(in.specBytes())));
            Map<String, String> patches = new LinkedHashMap<>();
            in.patches().forEach((name, bytes) -> patches.put(name, SourceCache.sha512(bytes)));
            r.record.put("patches", patches);
            r.record.put("builder", in.builder());
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A listener that writes everything to build.log and passes it on. */
    BuildListener tee(BuildListener next) {
        return new BuildListener() {
            @Override
            public void stage(String name) {
                write("== " + Instant.now() + " " + name);
                next.stage(name);
            }

            @Override
            public void notice(String message) {
                write("-- " + message);
                next.notice(message);
            }

            @Override
            public void log(String line) {
                output(line);
                next.log(line);
            }

            @Override
            public void publishFailed(String target) {
                next.publishFailed(target);
            }
        };
    }

    /** A line of Kiln's own (a stage, a notice): always written, after the build output before it. */
    private synchronized void write(String line) {
        writeTail();
        append(line);
    }

    /**
     * A line of build output: written while the head has room, then kept in the tail, whose oldest
     * lines give way (counted) when it is full.
     */
    private synchronized void output(String line) {
        long size = utf8Length(line) + 1;
        if (tail.isEmpty() && size <= headLeft) {
            headLeft -= size;
            append(line);
            return;
        }
        // Once a line went to the tail, all later ones do, so the log keeps its order.
        headLeft = 0;
        tail.addLast(line);
        tailBytes += size;
        while (tailBytes > LOG_TAIL_BYTES) {
            long dropped = utf8Length(tail.removeFirst()) + 1;
            tailBytes -= dropped;
            leftOutLines++;
            leftOutBytes += dropped;
        }
    }

    private void writeTail() {
        if (leftOutLines > 0) {
            append("-- build output cut: " + leftOutLines + " lines (" + leftOutBytes + " bytes) left out here; build.log keeps the first "
                    + (LOG_HEAD_BYTES >> 20) + " MiB and the last " + (LOG_TAIL_BYTES >> 20) + " MiB of it");
            leftOutLines = 0;
            leftOutBytes = 0;
        }
        while (!tail.isEmpty()) {
            append(tail.removeFirst());
        }
        tailBytes = 0;
    }

    private void append(String line) {
        try {
            log.write(line);
            log.newLine();
            log.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    void sources(Map<String, Path> remote) {
        Map<String, String> sources = new LinkedHashMap<>();
        remote.forEach((name, path) -> sources.put(name, path.getFileName().toString()));
        record.put("sources", sources);
    }

    void buildKey(String key) {
        record.put("buildKey", key);
    }

    void image(PinnedImage image) {
        record.put("image", Map.of("builder", image.name(), "id", image.imageId(), "toolchain", image.toolchainDigest()));
    }

    void outputs(List<Path> rpms, String keyId, Duration duration) {
        Map<String, String> outputs = new LinkedHashMap<>();
        for (Path rpm : rpms) {
            outputs.put(folder.relativize(rpm).toString(), sha256(rpm));
        }
        record.put("outputs", outputs);
        record.put("signingKey", keyId);
        record.put("durationMillis", duration.toMillis());
        record.put("status", "built");
    }

    Path folder() {
        return folder;
    }

    Path log() {
        return folder.resolve("build.log");
    }

    /** Records the release guard's report and whether a person accepted a blocking one. */
    static void guard(Path folder, dev.kiln.guard.GuardReport report, boolean accepted) {
        Map<String, Object> guard = new LinkedHashMap<>();
        guard.put("blocked", report.blocks());
        guard.put("accepted", accepted);
        guard.put("headline", report.headline());
        guard.put("report", report.render());
        update(folder, r -> r.put("guard", guard));
    }

    private static void update(Path folder, java.util.function.Consumer<Map<String, Object>> change) {
        Path file = folder.resolve("record.json");
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> r = JSON.readValue(file.toFile(), LinkedHashMap.class);
            change.accept(r);
            JSON.writeValue(file.toFile(), r);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot update " + file, e);
        }
    }

    /**
     * Keeps the stack trace of a build that failed unexpectedly: appended to its build.log (the
     * record is closed by then) and named in record.json. Returns the log.
     */
    static Path crashed(Path folder, Throwable e) {
        Path log = folder.resolve("build.log");
        try {
            Files.writeString(log, "== " + Instant.now() + " internal error\n" + CrashReport.trace(e), StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException | RuntimeException unwritable) {
            return CrashReport.write(folder.getParent().getParent().getParent(), folder.getParent().getFileName().toString(), e);
        }
        if (Files.isRegularFile(folder.resolve("record.json"))) {
            try {
                update(folder, r -> r.put("error", "internal: " + e));
            } catch (RuntimeException unreadable) {
                // record.json may be what failed; the log has the trace either way
            }
        }
        return log;
    }

    /** The provenance statement of the build's RPMs, kept in its folder as {@value #PROVENANCE} (published or not). */
    static final String PROVENANCE = "provenance.json";

    static void provenance(Path folder, byte[] statement) {
        try {
            Files.write(folder.resolve(PROVENANCE), statement);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Records that the build's RPMs were published, after the publish succeeded. */
    static void markPublished(Path folder, Path repository) {
        update(folder, r -> {
            r.put("status", "published");
            r.put("repository", repository.toString());
        });
    }

    @Override
    public void close() {
        Instant finished = Instant.now();
        record.put("finished", finished.toString());
        try (BufferedWriter closing = log) {
            synchronized (this) {
                writeTail();
                append("== " + finished + " " + END_MARKER + " (" + record.get("status") + ")");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JSON.writeValue(folder.resolve("record.json").toFile(), record);
    }

    static String sha256(Path file) {
        try {
            return dev.kiln.Sha256.hex(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
