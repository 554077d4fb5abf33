package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.guard.GuardReport;
import dev.kiln.guard.ReleaseGuard;
import dev.kiln.guard.Releases;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.rpm.RpmFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code kiln diff}: the release guard's report for a package's latest build against the latest
 * release in the repository, or against a given release.
 */
public final class DiffService {

    private final KilnConfig config;

    public DiffService(KilnConfig config) {
        this.config = config;
    }

    /** The report; {@code against} is a published version-release (or NEVR) or null for the latest. */
    public GuardReport diff(String pkg, String against) {
        Path builds = config.records().resolve(pkg);
        List<Path> candidate = latestBuild(builds).orElseThrow(() -> KilnException.badInput("no build of '" + pkg
                + "' in " + builds + ": run ./kiln build " + pkg + " --no-publish first"));
        DirectoryRepository repository = new DirectoryRepository(config.repository());
        if (against == null) {
            return GuardStage.compare(repository, pkg, candidate);
        }
        List<RpmFile> published = repository.currentSnapshot() == null ? List.of() : repository.packages();
        List<RpmFile> released = published.stream().filter(r -> pkg.equals(r.sourceName()) && matches(r, against)).toList();
        if (released.isEmpty()) {
            throw KilnException.badInput("--against " + against + ": no release of " + pkg + " with that version in "
                    + config.repository() + " (see ./kiln repo list)");
        }
        return ReleaseGuard.compare(Releases.latest(released, pkg), candidate.stream().map(RpmFile::read).toList());
    }

    private static boolean matches(RpmFile rpm, String against) {
        var n = rpm.nevra();
        String vr = n.version() + "-" + n.release();
        return against.equals(vr) || against.equals(n.name() + "-" + vr) || against.equals(n.toString())
                || against.equals(n.name() + "-" + (n.epoch().isEmpty() ? "" : n.epoch() + ":") + vr);
    }

    private static java.util.Optional<List<Path>> latestBuild(Path builds) {
        if (!Files.isDirectory(builds)) {
            return java.util.Optional.empty();
        }
        try (Stream<Path> records = Files.list(builds)) {
            for (Path record : records.sorted(Comparator.reverseOrder()).toList()) {
                Path rpms = record.resolve("rpms");
                if (!Files.isDirectory(rpms)) {
                    continue;
                }
                try (Stream<Path> files = Files.list(rpms)) {
                    List<Path> binaries = files.filter(p -> p.toString().endsWith(".rpm") && !p.toString().endsWith(".src.rpm"))
                            .sorted().toList();
                    if (!binaries.isEmpty()) {
                        return java.util.Optional.of(binaries);
                    }
                }
            }
            return java.util.Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
