package dev.kiln.container;

import java.time.Duration;

/** What one build container may use: memory (swap is not added on top), process count and wall time. */
public record ContainerLimits(long memoryBytes, long pids, Duration timeout) {

    public ContainerLimits {
        if (memoryBytes < 6L * 1024 * 1024) {
            // The engine refuses less than 6 MiB; say so here, where the value is chosen.
            throw new IllegalArgumentException("memoryBytes must be at least 6 MiB, was " + memoryBytes);
        }
        if (pids < 1) {
            throw new IllegalArgumentException("pids must be positive, was " + pids);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
    }

    /** 2 GiB, 1024 processes, one hour: room for an ordinary package. */
    public static ContainerLimits defaults() {
        return new ContainerLimits(2L << 30, 1024, Duration.ofHours(1));
    }
}
