package dev.kiln.config;

import java.nio.file.Path;

/**
 * Everything Kiln reads from {@code kiln.yaml}, environment and options, resolved once per run.
 * Relative paths are already resolved against the project root.
 */
public record KilnConfig(
        Path root,
        Path state,
        String builder,
        Path repository,
        Path cache,
        SigningConfig signing,
        BuildLimits build,
        int servePort) {

    /** Where build records go: one folder per build. */
    public Path records() {
        return state.resolve("builds");
    }
}
