package dev.kiln.repo;

import dev.kiln.rpm.Nevra;
import java.nio.file.Path;
import java.util.List;

/**
 * RPMs in the repository whose provenance records one build key: the output of one earlier build
 * of the same inputs.
 *
 * @param packages their NEVRAs, sorted
 * @param rpms their files under the repository's location ({@code Packages/...}, {@code SRPMS/...})
 */
public record PublishedBuild(String buildKey, List<Nevra> packages, List<Path> rpms) {

    public PublishedBuild {
        packages = List.copyOf(packages);
        rpms = List.copyOf(rpms);
    }
}
