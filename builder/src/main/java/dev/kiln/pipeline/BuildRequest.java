package dev.kiln.pipeline;

import java.util.List;

/**
 * What to build: named packages, every package ({@code all}), or those changed since a revision
 * ({@code changedSince}) with their dependents; from the working tree ({@code rev} null) or a
 * revision. How: up to {@code jobs} at once, going on after a failure ({@code keepGoing}),
 * rebuilding what is up to date ({@code force}), building twice to compare
 * ({@code checkReproducible}). Then whether to publish, and whether a person accepted what the
 * release guard would block.
 */
public record BuildRequest(List<String> packages, boolean all, String changedSince, String rev, boolean publish,
        boolean acceptChanges, int jobs, boolean keepGoing, boolean force, boolean checkReproducible, List<String> command) {

    /** Named packages, one at a time, as `kiln build <pkg>...` with no other options. */
    public static BuildRequest of(List<String> packages, String rev, boolean publish, boolean acceptChanges, List<String> command) {
        return new BuildRequest(packages, false, null, rev, publish, acceptChanges, 1, false, false, false, command);
    }
}
