package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.guard.GuardReport;
import dev.kiln.guard.ReleaseGuard;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.rpm.RpmFile;
import java.nio.file.Path;
import java.util.List;

/**
 * The release guard as a build stage: the new binary RPMs against the latest release of the
 * same source package in the repository. A blocking report stops the publish unless a person
 * accepted it; either way the report goes into the build log and record.
 */
final class GuardStage {

    private GuardStage() {
    }

    static GuardReport compare(DirectoryRepository repository, String sourceName, List<Path> binaries) {
        List<RpmFile> candidate = binaries.stream().map(RpmFile::read).toList();
        return ReleaseGuard.check(candidate, repository.currentSnapshot() == null ? List.of() : repository.packages());
    }

    /** Runs the guard for one build result, reports it, records it, and throws when it blocks. */
    static void check(DirectoryRepository repository, BuildResult result, boolean accept, BuildListener listener) {
        listener.stage("Start: release guard for " + result.packageName());
        GuardReport report = compare(repository, result.packageName(), result.rpms());
        report.render().lines().forEach(listener::log);
        BuildRecord.guard(result.record(), report, accept && report.blocks());
        if (report.blocks() && !accept) {
            throw KilnException.buildFailed(report.headline() + " for " + result.nevra()
                    + ": nothing was published; fix the spec, or publish anyway with --accept-changes (recorded)");
        }
        if (report.blocks()) {
            listener.notice("release guard findings accepted (--accept-changes): recorded in " + result.record());
        }
    }
}
