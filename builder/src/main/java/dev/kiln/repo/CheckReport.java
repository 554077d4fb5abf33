package dev.kiln.repo;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What one {@link RepositoryCheck} found on a target, as a user of it would meet it: every failure
 * with its kind and path, when the target last published, and how far each replica is behind.
 *
 * @param url where the check read the repository (the baseurl dnf is given)
 * @param unreachable why {@code repodata/repomd.xml} could not be fetched at all; then nothing else was checked
 * @param packagesChecked the latest packages (newest per name and arch) downloaded and checked
 * @param metadataFiles the documents repomd.xml names that were fetched and checked
 * @param newestPublish when the target last published, from repomd.xml; empty when it could not be read
 */
public record CheckReport(String target, URI url, Optional<String> unreachable, int packagesChecked, int metadataFiles,
        Optional<Instant> newestPublish, List<Failure> failures, List<Replica> replicas, Instant started, Duration duration) {

    public CheckReport {
        failures = List.copyOf(failures);
        replicas = List.copyOf(replicas);
    }

    /** Whether a user would have met no problem: the target answered and nothing failed. */
    public boolean ok() {
        return unreachable.isEmpty() && failures.isEmpty();
    }

    /** How many failures of {@code kind} were found. */
    public long count(FailureKind kind) {
        return failures.stream().filter(f -> f.kind() == kind).count();
    }

    /** The kinds of failure, each a way a user's dnf would fail. */
    public enum FailureKind {
        /** repomd.xml.asc or a package's header signature is missing, not the company key's, or does not verify. */
        SIGNATURE,
        /** a document or package differs from the checksum the metadata gives for it. */
        CHECKSUM,
        /** repomd.xml or a document it names is missing or unreadable. */
        METADATA,
        /** a package the metadata lists cannot be downloaded. */
        DOWNLOAD,
        /** dnf could not install a latest package into an empty root. */
        INSTALL;

        /** As metrics, JSON and messages spell it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One thing wrong, at {@code path} (relative to the target's base URL), or a package's NEVRA for an install. */
    public record Failure(FailureKind kind, String path, String detail) {
    }

    /**
     * A replica's standing against the checked target.
     *
     * @param lag how far its newest publish is behind the target's (zero when it is not behind); empty
     *     when it could not be measured, and {@code problem} says why
     */
    public record Replica(String site, URI url, Optional<Instant> newestPublish, Optional<Duration> lag, Optional<String> problem) {
    }
}
