package dev.kiln.repo;

import dev.kiln.KilnException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * A {@link CheckReport} as Prometheus text-format metrics, for node-exporter's textfile collector:
 * every series labelled with the target, a HELP and TYPE line for each metric, every failure kind
 * present (0 when none), so an alert rule never meets a missing series after a good run.
 *
 * <p>The file is written next to its final name and renamed over it, because the collector reads the
 * folder at any moment: it sees the previous run's file or this one's, never half of one.
 */
public final class CheckMetrics {

    private CheckMetrics() {
    }

    /** The metrics text of {@code report}, ages measured at {@code now}. */
    public static String render(CheckReport report, Instant now) {
        StringBuilder out = new StringBuilder(2048);
        String target = "target=\"" + escape(report.target()) + "\"";
        gauge(out, "kiln_repo_check_success", "1 when the last check of the target found no problem, 0 when it found one or could not reach it");
        sample(out, "kiln_repo_check_success", target, report.ok() ? 1 : 0);
        gauge(out, "kiln_repo_check_reachable", "1 when the target answered the last check, 0 when its repomd.xml could not be fetched at all");
        sample(out, "kiln_repo_check_reachable", target, report.unreachable().isEmpty() ? 1 : 0);
        gauge(out, "kiln_repo_check_duration_seconds", "How long the last check took");
        sample(out, "kiln_repo_check_duration_seconds", target, seconds(report.duration()));
        gauge(out, "kiln_repo_check_packages_checked", "Latest packages (newest per name and arch) the last check downloaded and checked");
        sample(out, "kiln_repo_check_packages_checked", target, report.packagesChecked());
        gauge(out, "kiln_repo_check_failures", "Problems the last check found, by kind");
        for (CheckReport.FailureKind kind : CheckReport.FailureKind.values()) {
            sample(out, "kiln_repo_check_failures", target + ",kind=\"" + kind.label() + "\"", report.count(kind));
        }
        report.newestPublish().ifPresent(newest -> {
            gauge(out, "kiln_repo_newest_publish_timestamp_seconds", "When the target last published, from its repomd.xml (Unix time)");
            sample(out, "kiln_repo_newest_publish_timestamp_seconds", target, newest.getEpochSecond());
            gauge(out, "kiln_repo_newest_publish_age_seconds", "How long ago the target last published, when the check ran");
            sample(out, "kiln_repo_newest_publish_age_seconds", target, Math.max(0, Duration.between(newest, now).toSeconds()));
        });
        if (!report.replicas().isEmpty()) {
            gauge(out, "kiln_repo_replica_measured", "1 when the replica's signed repomd.xml was read, 0 when its lag could not be measured");
            for (CheckReport.Replica r : report.replicas()) {
                sample(out, "kiln_repo_replica_measured", target + ",site=\"" + escape(r.site()) + "\"", r.lag().isPresent() ? 1 : 0);
            }
            if (report.replicas().stream().anyMatch(r -> r.lag().isPresent())) {
                gauge(out, "kiln_repo_replica_lag_seconds", "How far the replica's newest publish is behind the target's (0 when it is not behind)");
                for (CheckReport.Replica r : report.replicas()) {
                    r.lag().ifPresent(lag -> sample(out, "kiln_repo_replica_lag_seconds",
                            target + ",site=\"" + escape(r.site()) + "\"", lag.toSeconds()));
                }
            }
        }
        gauge(out, "kiln_repo_check_last_run_timestamp_seconds", "When the last check of the target started (Unix time)");
        sample(out, "kiln_repo_check_last_run_timestamp_seconds", target, report.started().getEpochSecond());
        return out.toString();
    }

    /**
     * Writes {@code report}'s metrics to {@code file} atomically: a temporary file in the same folder,
     * flushed to disk, renamed over {@code file}. The file is readable by others (the collector runs as
     * its own user).
     */
    public static void write(Path file, CheckReport report, Instant now) {
        Path temp = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                channel.write(java.nio.ByteBuffer.wrap(render(report, now).getBytes(StandardCharsets.UTF_8)));
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // nothing more to undo
            }
            throw KilnException.environment("cannot write the metrics file " + file + " (" + e.getMessage()
                    + "): give the user running the check write access to its folder");
        }
    }

    private static void gauge(StringBuilder out, String name, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
    }

    private static void sample(StringBuilder out, String name, String labels, double value) {
        out.append(name).append('{').append(labels).append("} ");
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            out.append((long) value);
        } else {
            out.append(String.format(Locale.ROOT, "%.3f", value));
        }
        out.append('\n');
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    /** A label value as the text format wants it: backslash, double quote and newline escaped. */
    static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
