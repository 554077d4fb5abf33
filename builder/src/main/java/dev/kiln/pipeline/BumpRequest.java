package dev.kiln.pipeline;

import java.util.List;

/**
 * A version bump: the package, the new upstream version, patches to drop by name, whether to
 * find patches upstream merged, whether to fetch the new source, build it, and accept guard findings.
 */
public record BumpRequest(String packageName, String toVersion, List<String> dropPatches, boolean autoDrop, boolean fetch,
        boolean build, boolean acceptChanges) {
}
