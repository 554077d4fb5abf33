package dev.kiln.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * One entry of {@code targets:} in {@code kiln.yaml}: a place builds are published to. Holds no
 * credentials: those come from the environment or a netrc file on the publishing host.
 *
 * @param name how {@code --target} names it: letters, digits, {@code .}, {@code _} and {@code -}
 * @param kind {@code directory}, {@code webdav}, {@code nexus} or {@code artifactory}
 * @param path the folder of a {@code directory} target (absolute), empty for the others
 * @param url the base URL of a server target, ending in {@code /}; empty for a directory
 * @param repository the repository key of an {@code artifactory} target, empty otherwise
 * @param metadataGrace how long the metadata files a publish replaces stay servable
 * @param lockTimeout how long a publish waits for another one holding the target
 * @param indexTimeout how long a publish waits for a repository manager to list what it uploaded
 */
public record TargetConfig(String name, Kind kind, Optional<Path> path, Optional<URI> url, String repository,
        Duration metadataGrace, Duration lockTimeout, Duration indexTimeout) {

    /** The kinds of target, as {@code kind:} spells them. */
    public enum Kind {
        DIRECTORY, WEBDAV, NEXUS, ARTIFACTORY;

        public String spelling() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static final Duration DEFAULT_GRACE = Duration.ofHours(1);
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofMinutes(5);
    public static final Duration DEFAULT_INDEX_TIMEOUT = Duration.ofMinutes(5);

    /** The target every project has when {@code kiln.yaml} lists none: the {@code repository} folder. */
    public static TargetConfig localDirectory(Path repository) {
        return new TargetConfig("local", Kind.DIRECTORY, Optional.of(repository), Optional.empty(), "",
                DEFAULT_GRACE, DEFAULT_LOCK_TIMEOUT, DEFAULT_INDEX_TIMEOUT);
    }

    /** {@code directory /srv/repo} or {@code webdav https://repo.example.com/rpms/}: what a person reads in messages. */
    public String describe() {
        return kind.spelling() + " " + path.map(Path::toString).orElseGet(() -> url.map(URI::toString).orElse(""));
    }
}
