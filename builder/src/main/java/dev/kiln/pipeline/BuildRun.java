package dev.kiln.pipeline;

import dev.kiln.config.KilnConfig;
import dev.kiln.repo.DirectoryRepository;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of a build run: one outcome per package in build order, whether the run published,
 * and the exit code it earns (0, or the code of the first failure).
 */
public record BuildRun(List<BuildOutcome> outcomes, boolean published, Duration duration, String note, int exitCode) {

    public List<BuildResult> built() {
        return outcomes.stream().filter(BuildOutcome.Built.class::isInstance).map(o -> ((BuildOutcome.Built) o).result()).toList();
    }

    /** The {@code --json} document of a run, the same for a local build and one the service ran. */
    public Map<String, Object> document(KilnConfig config) {
        BuildRun run = this;
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("ok", run.exitCode() == 0);
        doc.put("exitCode", run.exitCode());
        doc.put("published", run.published());
        doc.put("durationMillis", run.duration().toMillis());
        doc.put("repository", config.repository().toString());
        if (!run.note().isEmpty()) {
            doc.put("note", run.note());
        }
        doc.put("builds", run.outcomes().stream().map(o -> switch (o) {
            case BuildOutcome.Built b -> built(config, b.result());
            case BuildOutcome.UpToDate u -> Map.<String, Object>of("package", u.packageName(), "status", "up-to-date",
                    "nevra", u.nevra(), "buildKey", u.buildKey());
            case BuildOutcome.Failed f -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("package", f.packageName());
                m.put("status", "failed");
                m.put("error", f.message());
                m.put("exitCode", f.exitCode());
                m.put("log", f.log() == null ? null : f.log().toString());
                yield m;
            }
            case BuildOutcome.Skipped s -> Map.<String, Object>of("package", s.packageName(), "status", "skipped", "reason", s.reason());
        }).toList());
        return doc;
    }

    /** One built package in {@link #document}. */
    public static Map<String, Object> built(KilnConfig config, BuildResult r) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("package", r.packageName());
        b.put("status", "built");
        b.put("nevra", r.nevra());
        b.put("rpms", r.rpms().stream().map(Path::toString).toList());
        b.put("sourceRpm", r.sourceRpm().toString());
        b.put("signingKey", r.keyId());
        b.put("builder", r.builder());
        b.put("imageDigest", r.imageId());
        b.put("commit", r.commit());
        b.put("dirty", r.dirty());
        b.put("buildKey", r.buildKey());
        b.put("durationMillis", r.duration().toMillis());
        b.put("record", r.record().toString());
        b.put("published", r.published());
        if (r.published()) {
            b.put("install", DirectoryRepository.dnfInstallCommand(config.repository().toUri(), r.packageName()));
        }
        return b;
    }

}
