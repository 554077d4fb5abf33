package dev.kiln.pipeline;

import java.util.List;

/**
 * What a bump did: the versions, the patches dropped (and why), the branch and commit it made,
 * what a person still has to do, and the build when one ran.
 */
public record BumpResult(
        String packageName,
        String fromVersion,
        String toVersion,
        String release,
        List<DroppedPatch> dropped,
        List<String> keptPatches,
        String branch,
        String commit,
        List<String> todo,
        List<BuildResult> builds) {

    /** A patch removed by the bump; {@code reason} is "requested" or "merged upstream". */
    public record DroppedPatch(String fileName, String reason) {
    }
}
