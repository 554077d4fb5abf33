package dev.kiln.pipeline;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A version bump: the package, the new upstream version, patches to drop by name, and the
 * {@link Option}s that change what it does (the default: fetch the new source, build, guard and publish).
 */
public record BumpRequest(String packageName, String toVersion, List<String> dropPatches, Set<Option> options) {

    /** What a bump does besides its default. */
    public enum Option {
        /** drop the patches the new source already contains */
        AUTO_DROP,
        /** do not fetch the new source (an offline edit); say what to add instead */
        NO_FETCH,
        /** stop after the commit */
        NO_BUILD,
        /** build, sign and guard, but publish nothing (a scratch build) */
        NO_PUBLISH,
        /** publish even when the release guard blocks (recorded in the changelog) */
        ACCEPT_CHANGES
    }

    public BumpRequest {
        dropPatches = List.copyOf(dropPatches);
        options = options.isEmpty() ? EnumSet.noneOf(Option.class) : EnumSet.copyOf(options);
    }

    public boolean autoDrop() {
        return options.contains(Option.AUTO_DROP);
    }

    public boolean fetch() {
        return !options.contains(Option.NO_FETCH);
    }

    public boolean build() {
        return !options.contains(Option.NO_BUILD);
    }

    public boolean publish() {
        return !options.contains(Option.NO_PUBLISH);
    }

    public boolean acceptChanges() {
        return options.contains(Option.ACCEPT_CHANGES);
    }
}
