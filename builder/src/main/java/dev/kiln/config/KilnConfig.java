package dev.kiln.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Everything Kiln reads from {@code kiln.yaml}, environment and options, resolved once per run.
 * Relative paths are already resolved against the project root. {@code sourcesFolder} is the one
 * folder {@code file:} sources may be read from (a real path), empty when {@code file:} is refused.
 */
public record KilnConfig(
        Path root,
        Path state,
        String builder,
        Path repository,
        Path cache,
        SigningConfig signing,
        BuildLimits build,
        int servePort,
        Optional<Path> sourcesFolder) {

    /** Where build records go: one folder per build. */
    public Path records() {
        return state.resolve("builds");
    }
}
