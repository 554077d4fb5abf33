package dev.kiln.pipeline;

import java.nio.file.Path;
import java.time.Duration;

/** What happened to one package in a build run; the CLI handles every case. */
public sealed interface BuildOutcome {

    String packageName();

    /** Built (and, unless asked not to, published). */
    record Built(BuildResult result) implements BuildOutcome {
        @Override
        public String packageName() {
            return result.packageName();
        }
    }

    /** The repository already holds a release built from the same build key: nothing to do. */
    record UpToDate(String packageName, String nevra, String buildKey) implements BuildOutcome {
    }

    /** The build failed; {@code log} is its build log (null when it failed before one existed). */
    record Failed(String packageName, String message, int exitCode, Path log, Duration duration) implements BuildOutcome {
    }

    /** Not built because a package it needs failed, or an earlier failure stopped the run. */
    record Skipped(String packageName, String reason) implements BuildOutcome {
    }
}
