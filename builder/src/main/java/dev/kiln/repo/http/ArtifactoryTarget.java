package dev.kiln.repo.http;

import dev.kiln.config.TargetConfig;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A JFrog Artifactory RPM repository: {@code url} is Artifactory's base URL
 * ({@code https://artifactory.example.com/artifactory/}) and {@code repository} the repository key.
 * Each file is first deployed by checksum ({@code X-Checksum-Deploy: true}: no bytes travel when
 * Artifactory holds them already, 404 when it does not), then with its bytes and
 * {@code X-Checksum-Sha256} so Artifactory rejects a corrupted upload. After the uploads
 * {@code POST /api/yum/<repo>?async=0} has the metadata computed before the publish returns.
 */
public final class ArtifactoryTarget extends RepositoryManagerTarget {

    public ArtifactoryTarget(TargetConfig config, Optional<Credentials> credentials, Path cache) {
        super(config, new WebDav(config, credentials, client(), Duration.ofMinutes(10)), cache, Clock.systemUTC());
    }

    @Override
    protected String servedRoot() {
        return config.repository() + "/";
    }

    @Override
    protected boolean upload(String path, Path file, String sha256) {
        String target = servedRoot() + path;
        var byChecksum = http.putWith(target, HttpRequest.BodyPublishers.noBody(),
                List.of("X-Checksum-Deploy", "true", "X-Checksum-Sha256", sha256));
        if (byChecksum.statusCode() == 200 || byChecksum.statusCode() == 201) {
            return true;
        }
        if (byChecksum.statusCode() != 404) {
            http.check(byChecksum, "PUT (deploy by checksum)", target, 201);
        }
        var r = http.putWith(target, WebDav.body(file), List.of("X-Checksum-Sha256", sha256, "Content-Type", "application/x-rpm"));
        http.check(r, "PUT", target, 200, 201);
        return true;
    }

    @Override
    protected void afterChanges() {
        var r = http.post("api/yum/" + config.repository(), "async=0");
        http.check(r, "POST", "api/yum/" + config.repository() + "?async=0", 200, 202, 204);
    }
}
