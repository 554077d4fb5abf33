package dev.kiln.config;

import java.time.Duration;
import java.util.Optional;

/**
 * How {@code kiln serve} runs builds: where it takes the packaging repository from
 * ({@code service.repository}, a Git URL or path fetched before each build; empty: the project's
 * own Git repository), how many builds run at once for the whole service ({@code service.builds}),
 * how long one build may take from its start ({@code service.deadline}) and how long its log may
 * stay silent ({@code service.silence}) before it is stopped; where it keeps its tokens, audit log and
 * queue ({@code service.database}, a PostgreSQL JDBC URL; empty: the embedded database in the state
 * folder) and that database's password (only ever from {@code KILN_SERVICE_DATABASE_PASSWORD}).
 */
public record ServiceConfig(Optional<String> repository, int builds, Duration deadline, Duration silence, Optional<String> database,
        Optional<String> databasePassword) {

    public ServiceConfig {
        if (builds < 1) {
            throw new IllegalArgumentException("builds " + builds);
        }
    }

    @Override
    public String toString() {
        return "ServiceConfig[repository=" + repository + ", builds=" + builds + ", deadline=" + deadline + ", silence=" + silence
                + ", database=" + database + ", databasePassword=" + databasePassword.map(p -> ConfigLoader.REDACTED) + "]";
    }
}
