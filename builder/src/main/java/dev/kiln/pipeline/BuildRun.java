package dev.kiln.pipeline;

import java.time.Duration;
import java.util.List;

/**
 * The result of a build run: one outcome per package in build order, whether the run published,
 * and the exit code it earns (0, or the code of the first failure).
 */
public record BuildRun(List<BuildOutcome> outcomes, boolean published, Duration duration, String note, int exitCode) {

    public List<BuildResult> built() {
        return outcomes.stream().filter(BuildOutcome.Built.class::isInstance).map(o -> ((BuildOutcome.Built) o).result()).toList();
    }
}
