package dev.kiln.container;

import java.time.Duration;

/**
 * What one build container may use: memory (swap is not added on top), process count and wall time,
 * set per build; and the fixed bounds on what a build can push back to the host (its log and its
 * output folder), which no spec can raise.
 */
public record ContainerLimits(long memoryBytes, long pids, Duration timeout) {

    /**
     * The engine keeps a container's output in its own json-file log as well as streaming it to Kiln.
     * Rotated at this size, with {@link #ENGINE_LOG_FILES} files, a build that prints gigabytes
     * occupies at most about 16 MiB of the engine's disk (the json-file size includes its framing);
     * Kiln's copy of the log comes from the attached stream, not from this file.
     */
    public static final String ENGINE_LOG_MAX_SIZE = "8m";
    /** How many rotated json-file logs the engine keeps for one build container; see {@link #ENGINE_LOG_MAX_SIZE}. */
    public static final int ENGINE_LOG_FILES = 2;
    /**
     * A line of build output longer than this (in bytes) is cut into pieces of this size, each marked,
     * so output without newlines cannot grow one line until the JVM runs out of memory. 16 KiB holds a
     * long compiler command line whole.
     */
    public static final int LOG_LINE_BYTES = 16 * 1024;
    /**
     * The most files a build may leave in its output folder. Every file is read, signed and indexed;
     * even the largest spec families (texlive, with about 6,000 subpackages) stay below it.
     */
    public static final int OUTPUT_MAX_FILES = 10_000;
    /**
     * The most bytes a build may leave in its output folder, summed over its files. The output is
     * copied into the build record on the host's disk; 8 GiB holds big debuginfo packages, and signing
     * cannot handle a single RPM over 2 GiB in any case.
     */
    public static final long OUTPUT_MAX_BYTES = 8L << 30;

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
