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
}
