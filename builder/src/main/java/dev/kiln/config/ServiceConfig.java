package dev.kiln.config;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * How {@code kiln serve} runs builds: where it takes the packaging repository from
 * ({@code service.repository}, a Git URL or path fetched before each build; empty: the project's
 * own Git repository), how many builds run at once for the whole service ({@code service.builds}),
 * how long one build may take from its start ({@code service.deadline}) and how long its log may
 * stay silent ({@code service.silence}) before it is stopped; the branch whose pushes publish
 * ({@code service.release-branch}; pushes of other branches build scratch) and where a document
 * goes when a build ends ({@code service.notify}, an http(s) URL). The webhook secrets are no
 * settings: they come from the service's environment only.
 */
public record ServiceConfig(Optional<String> repository, int builds, Duration deadline, Duration silence, String releaseBranch,
        Optional<URI> notifyUrl) {

    /** The settings as before webhooks: pushes of {@code main} publish, no notification. */
    public ServiceConfig(Optional<String> repository, int builds, Duration deadline, Duration silence) {
        this(repository, builds, deadline, silence, "main", Optional.empty());
    }

    public ServiceConfig {
        if (builds < 1) {
            throw new IllegalArgumentException("builds " + builds);
        }
    }
}
