package dev.kiln.pipeline;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What to build ({@link Selection}: named packages, every package, or those changed since a
 * revision with their dependents), from the working tree ({@code rev} null) or a revision, up to
 * {@code jobs} at once, and the {@link Option}s that change what it does (the default: build what
 * is not up to date, stop at the first failure, then guard and publish).
 */
public record BuildRequest(Selection selection, String rev, int jobs, Set<Option> options, List<String> command) {

    /** Which packages a build goes through. */
    public sealed interface Selection {
        /** These packages (and what they need built first). */
        record Named(List<String> packages) implements Selection {
            public Named {
                packages = List.copyOf(packages);
            }
        }

        /** Every package of the snapshot. */
        record All() implements Selection {
        }

        /** The packages changed since revision {@code rev}, and the packages that build on them. */
        record ChangedSince(String rev) implements Selection {
        }
    }

    /** What a build does besides its default. */
    public enum Option {
        /** build, sign and guard, but publish nothing (a scratch build) */
        NO_PUBLISH,
        /** publish even when the release guard blocks */
        ACCEPT_CHANGES,
        /** go on with the other packages after a failure */
        KEEP_GOING,
        /** rebuild what is up to date */
        FORCE,
        /** build each package twice and compare (publishes nothing) */
        CHECK_REPRODUCIBLE
    }

    public BuildRequest {
        options = options.isEmpty() ? EnumSet.noneOf(Option.class) : EnumSet.copyOf(options);
        command = List.copyOf(command);
    }

    /** Named packages, one at a time, as `kiln build <pkg>...` with no other options but these. */
    public static BuildRequest of(List<String> packages, String rev, Set<Option> options, List<String> command) {
        return new BuildRequest(new Selection.Named(packages), rev, 1, options, command);
    }

    /** The options of a build that publishes or not, accepting the release guard's changes or not (for a bump's or the service's build). */
    public static Set<Option> publishing(boolean publish, boolean acceptChanges) {
        Set<Option> options = EnumSet.noneOf(Option.class);
        if (!publish) {
            options.add(Option.NO_PUBLISH);
        }
        if (acceptChanges) {
            options.add(Option.ACCEPT_CHANGES);
        }
        return options;
    }

    /** The packages named; none for {@link Selection.All} and {@link Selection.ChangedSince}. */
    public List<String> packages() {
        return selection instanceof Selection.Named named ? named.packages() : List.of();
    }

    public boolean all() {
        return selection instanceof Selection.All;
    }

    /** The revision of {@link Selection.ChangedSince}, else null. */
    public String changedSince() {
        return selection instanceof Selection.ChangedSince since ? since.rev() : null;
    }

    public boolean publish() {
        return !options.contains(Option.NO_PUBLISH);
    }

    public boolean acceptChanges() {
        return options.contains(Option.ACCEPT_CHANGES);
    }

    public boolean keepGoing() {
        return options.contains(Option.KEEP_GOING);
    }

    public boolean force() {
        return options.contains(Option.FORCE);
    }

    public boolean checkReproducible() {
        return options.contains(Option.CHECK_REPRODUCIBLE);
    }
}
