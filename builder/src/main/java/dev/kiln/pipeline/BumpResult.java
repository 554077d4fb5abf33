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

    /** The {@code --json} document of a bump, the same for a local bump and one the service ran. */
    public java.util.Map<String, Object> document(dev.kiln.config.KilnConfig config) {
        java.util.Map<String, Object> doc = new java.util.LinkedHashMap<>();
        doc.put("ok", true);
        doc.put("package", packageName);
        doc.put("from", fromVersion);
        doc.put("to", toVersion);
        doc.put("release", release);
        doc.put("dropped", dropped.stream().map(d -> java.util.Map.of("patch", d.fileName(), "reason", d.reason())).toList());
        doc.put("kept", keptPatches);
        doc.put("branch", branch);
        doc.put("commit", commit);
        doc.put("todo", todo);
        doc.put("build", builds.isEmpty() ? null : builds.stream().map(b -> BuildRun.built(config, b)).toList());
        return doc;
    }

    /** A patch removed by the bump; {@code reason} is "requested" or "merged upstream". */
    public record DroppedPatch(String fileName, String reason) {
    }
}
