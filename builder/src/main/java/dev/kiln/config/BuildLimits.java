package dev.kiln.config;

import java.time.Duration;

/** Limits of one build container. */
public record BuildLimits(Duration timeout, long memoryBytes, long pids) {
}
