package dev.kiln.config;

import java.time.Duration;
import java.util.Optional;

/**
 * How {@code kiln serve} runs builds: where it takes the packaging repository from
 * ({@code service.repository}, a Git URL or path fetched before each build; empty: the project's
 * own Git repository), how many builds run at once for the whole service ({@code service.builds}),
 * how long one build may take from its start ({@code service.deadline}) and how long its log may
 * stay silent ({@code service.silence}) before it is stopped.
 */
public record ServiceConfig(Optional<String> repository, int builds, Duration deadline, Duration silence) {

    public ServiceConfig {
        if (builds < 1) {
            throw new IllegalArgumentException("builds " + builds);
        }
    }
}
