package dev.kiln.repo;

import dev.kiln.config.TargetConfig;
import dev.kiln.repo.http.ArtifactoryTarget;
import dev.kiln.repo.http.Credentials;
import dev.kiln.repo.http.NexusTarget;
import dev.kiln.repo.http.WebDavTarget;
import java.nio.file.Path;
import java.util.Map;

/** The one place a target's kind is chosen: from its {@code kiln.yaml} entry. */
public final class Targets {

    private Targets() {
    }

    /**
     * Opens {@code config}'s target.
     *
     * @param env where credentials come from ({@code KILN_TARGET_<NAME>_USERNAME}, ..., {@code NETRC})
     * @param cache a folder of this machine for what a remote target's publishes keep between runs
     */
    public static PublishTarget open(TargetConfig config, Map<String, String> env, Path cache) {
        return switch (config.kind()) {
            case DIRECTORY -> new DirectoryTarget(config);
            case WEBDAV -> new WebDavTarget(config, Credentials.forTarget(config, env), cache.resolve("targets").resolve(config.name()));
            case NEXUS -> new NexusTarget(config, Credentials.forTarget(config, env), cache.resolve("targets").resolve(config.name()));
            case ARTIFACTORY -> new ArtifactoryTarget(config, Credentials.forTarget(config, env),
                    cache.resolve("targets").resolve(config.name()));
        };
    }

    /**
     * Opens {@code config}'s target as a destination of {@code kiln repo sync}.
     *
     * @param requestTimeout how long one request to a server may go unanswered before it is retried
     * @throws dev.kiln.KilnException BAD_INPUT for a repository manager, which indexes by itself
     */
    public static Replica replica(TargetConfig config, Map<String, String> env, Path cache, java.time.Duration requestTimeout) {
        return (Replica) forSync(config, env, cache, requestTimeout, "--to");
    }

    /** Opens {@code config}'s target as the source of {@code kiln repo sync}, read as its clients read it. */
    public static ReplicaSource source(TargetConfig config, Map<String, String> env, Path cache, java.time.Duration requestTimeout) {
        return (ReplicaSource) forSync(config, env, cache, requestTimeout, "--from");
    }

    /** The kinds a sync reads and writes: each is both a {@link Replica} and a {@link ReplicaSource}. */
    private static PublishTarget forSync(TargetConfig config, Map<String, String> env, Path cache, java.time.Duration requestTimeout,
            String option) {
        return switch (config.kind()) {
            case DIRECTORY -> new DirectoryTarget(config);
            case WEBDAV -> new WebDavTarget(config, Credentials.forTarget(config, env), cache.resolve("targets").resolve(config.name()),
                    requestTimeout);
            case NEXUS, ARTIFACTORY -> throw dev.kiln.KilnException.badInput("repo sync " + option + " " + config.name() + ": target "
                    + config.name() + " (" + config.describe() + ") is a repository manager, which indexes what it holds by itself: "
                    + "publish to it with ./kiln repo publish --target " + config.name() + " instead");
        };
    }
}
