package dev.kiln.pipeline;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** One package built, signed and (unless asked not to) published. */
public record BuildResult(
        String packageName,
        String nevra,
        List<Path> rpms,
        Path sourceRpm,
        String keyId,
        String builder,
        String imageId,
        String commit,
        boolean dirty,
        Duration duration,
        Path record,
        boolean published,
        String buildKey) {

    BuildResult withPublished() {
        return new BuildResult(packageName, nevra, rpms, sourceRpm, keyId, builder, imageId, commit, dirty, duration, record, true,
                buildKey);
    }
}
