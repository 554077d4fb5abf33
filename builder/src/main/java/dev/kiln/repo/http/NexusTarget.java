package dev.kiln.repo.http;

import dev.kiln.config.TargetConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A Sonatype Nexus Repository yum (hosted) repository: {@code url} is the repository's URL
 * ({@code https://nexus.example.com/repository/rpm-hosted/}); each file is a
 * {@code PUT /repository/<repo>/<path>} with basic authentication, and Nexus rebuilds the metadata
 * by itself a moment later. A repository whose deployment policy forbids redeploying answers 400 to
 * a second upload of a path, which Kiln reports as a changed release.
 */
public final class NexusTarget extends RepositoryManagerTarget {

    public NexusTarget(TargetConfig config, Optional<Credentials> credentials, Path cache) {
        super(config, new WebDav(config, credentials, client(), Duration.ofMinutes(10)), cache, Clock.systemUTC());
    }

    @Override
    protected String servedRoot() {
        return "";
    }

    @Override
    protected boolean upload(String path, Path file, String sha256) {
        var r = http.putWith(path, WebDav.body(file), List.of("Content-Type", "application/x-rpm"));
        if (r.statusCode() == 400 && r.body().toLowerCase(java.util.Locale.ROOT).contains("updating")) {
            return false; // "Repository does not allow updating assets"
        }
        http.check(r, "PUT", path, 200, 201, 204);
        return true;
    }
}
