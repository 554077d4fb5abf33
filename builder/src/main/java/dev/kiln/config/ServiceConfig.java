package dev.kiln.config;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * How {@code kiln serve} runs builds: where it takes the packaging repository from
 * ({@code service.repository}, a Git URL or path fetched before each build; empty: the project's
 * own Git repository), how many builds run at once for the whole service ({@code service.builds}),
 * how long one build may take from its start ({@code service.deadline}) and how long its log may
 * stay silent ({@code service.silence}) before it is stopped; where it keeps its tokens, audit log and
 * queue ({@code service.database}, a PostgreSQL JDBC URL; empty: the embedded database in the state
 * folder) and that database's password (only ever from {@code KILN_SERVICE_DATABASE_PASSWORD}); the
 * branch whose pushes publish ({@code service.release-branch}; pushes of other branches build
 * scratch), where a document goes when a build ends ({@code service.notify}, an http(s) URL) and
 * how often the service checks its release target as a user's dnf reads it ({@code service.canary};
 * {@code off}: never), and its address as users reach it, behind a proxy ({@code service.url}; empty:
 * the address it listens on).
 * The webhook secrets are no settings: they come from the service's environment only.
 */
public record ServiceConfig(Optional<String> repository, int builds, Duration deadline, Duration silence, Optional<String> database,
        Optional<String> databasePassword, String releaseBranch, Optional<URI> notifyUrl, Optional<Duration> canary,
        Optional<URI> url) {

    public ServiceConfig {
        if (builds < 1) {
            throw new IllegalArgumentException("builds " + builds);
        }
    }

    @Override
    public String toString() {
        return "ServiceConfig[repository=" + repository + ", builds=" + builds + ", deadline=" + deadline + ", silence=" + silence
                + ", database=" + database + ", databasePassword=" + databasePassword.map(p -> ConfigLoader.REDACTED)
                + ", releaseBranch=" + releaseBranch + ", notifyUrl=" + notifyUrl + ", canary=" + canary + ", url=" + url + "]";
    }
}
