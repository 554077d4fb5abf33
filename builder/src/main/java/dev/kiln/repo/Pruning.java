package dev.kiln.repo;

import dev.kiln.rpm.Nevra;
import java.util.List;

/**
 * What one {@code repo prune} did to one target, or would do ({@link Mode#DRY_RUN}).
 *
 * @param files the files of the removed releases (RPMs, source RPMs, provenance) that the target held
 * @param metadataChanged whether the repository's metadata changed (never on a dry run, nor when nothing goes)
 */
public record Pruning(String target, int keep, List<Nevra> kept, List<Nevra> removed, List<String> files, boolean metadataChanged) {

    /** Whether a prune changes the target or only says what it would change. */
    public enum Mode { APPLY, DRY_RUN }

    public Pruning {
        kept = List.copyOf(kept);
        removed = List.copyOf(removed);
        files = List.copyOf(files);
    }

    /** The same result told of the target named {@code name}. */
    public Pruning withTarget(String name) {
        return new Pruning(name, keep, kept, removed, files, metadataChanged);
    }

    /** The plan told as a result: what goes and stays, and which of its files {@code present} are there. */
    public static Pruning of(String target, int keep, PrunePlan plan, List<String> present, boolean metadataChanged) {
        return new Pruning(target, keep, plan.kept(), plan.removed(), present, metadataChanged);
    }
}
