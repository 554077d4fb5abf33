package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckMetricsTest {

    static final Instant STARTED = Instant.parse("2026-12-02T07:00:00Z");
    static final URI URL = URI.create("http://repo.example.com/rpms/");

    static CheckReport report(String target, List<CheckReport.Failure> failures, List<CheckReport.Replica> replicas) {
        return new CheckReport(target, URL, Optional.empty(), 3, 4, Optional.of(STARTED.minusSeconds(600)), failures, replicas, STARTED,
                Duration.ofMillis(1250));
    }

    @Test
    void everyFailureKindIsAnAlwaysPresentSeriesWithItsCount() {
        String text = CheckMetrics.render(report("company", List.of(
                new CheckReport.Failure(CheckReport.FailureKind.CHECKSUM, "Packages/a.rpm", "differs"),
                new CheckReport.Failure(CheckReport.FailureKind.CHECKSUM, "Packages/b.rpm", "differs")), List.of()), STARTED.plusSeconds(2));
        assertThat(text).contains("kiln_repo_check_success{target=\"company\"} 0\n")
                .contains("kiln_repo_check_failures{target=\"company\",kind=\"checksum\"} 2\n")
                .contains("kiln_repo_check_failures{target=\"company\",kind=\"signature\"} 0\n")
                .contains("kiln_repo_check_failures{target=\"company\",kind=\"metadata\"} 0\n")
                .contains("kiln_repo_check_failures{target=\"company\",kind=\"download\"} 0\n")
                .contains("kiln_repo_check_failures{target=\"company\",kind=\"install\"} 0\n")
                .contains("kiln_repo_check_duration_seconds{target=\"company\"} 1.250\n")
                .contains("kiln_repo_newest_publish_age_seconds{target=\"company\"} 602\n")
                .contains("kiln_repo_check_last_run_timestamp_seconds{target=\"company\"} " + STARTED.getEpochSecond() + "\n")
                .doesNotContain("kiln_repo_replica");
        // one HELP and one TYPE line per metric, before its samples
        assertThat(text.lines().filter(l -> l.startsWith("# TYPE kiln_repo_check_failures gauge"))).hasSize(1);
        assertThat(text.indexOf("# HELP kiln_repo_check_failures")).isLessThan(text.indexOf("kiln_repo_check_failures{"));
    }

    @Test
    void anUnreachableTargetIsAFailedCheckWithNoPublishTime() {
        CheckReport down = new CheckReport("down", URL, Optional.of("cannot be reached"), 0, 0, Optional.empty(), List.of(), List.of(),
                STARTED, Duration.ofSeconds(3));
        String text = CheckMetrics.render(down, STARTED);
        assertThat(text).contains("kiln_repo_check_success{target=\"down\"} 0\n").contains("kiln_repo_check_reachable{target=\"down\"} 0\n")
                .doesNotContain("kiln_repo_newest_publish");
    }

    @Test
    void aReplicaWhoseLagIsUnknownIsMarkedUnmeasuredAndHasNoLagSample() {
        String text = CheckMetrics.render(report("company", List.of(), List.of(
                new CheckReport.Replica("eu", URL, Optional.of(STARTED.minusSeconds(700)), Optional.of(Duration.ofSeconds(100)), Optional.empty()),
                new CheckReport.Replica("us", URL, Optional.empty(), Optional.empty(), Optional.of("cannot be reached")))), STARTED);
        assertThat(text).contains("kiln_repo_replica_lag_seconds{target=\"company\",site=\"eu\"} 100\n")
                .contains("kiln_repo_replica_measured{target=\"company\",site=\"eu\"} 1\n")
                .contains("kiln_repo_replica_measured{target=\"company\",site=\"us\"} 0\n")
                .doesNotContain("kiln_repo_replica_lag_seconds{target=\"company\",site=\"us\"}");
    }

    @Test
    void labelValuesAreEscapedAsTheTextFormatWants() {
        assertThat(CheckMetrics.escape("a\"b\\c\nd")).isEqualTo("a\\\"b\\\\c\\nd");
    }

    @Test
    void writingReplacesTheFileWholeLeavesNoTemporaryFileAndOthersMayReadIt(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("kiln-repo.prom");
        Files.writeString(file, "old\n");
        CheckMetrics.write(file, report("company", List.of(), List.of()), STARTED);
        assertThat(Files.readString(file)).startsWith("# HELP kiln_repo_check_success").contains("kiln_repo_check_success{target=\"company\"} 1\n");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(file);
        }
        assertThat(Files.getPosixFilePermissions(file)).contains(PosixFilePermission.OTHERS_READ);
    }
}
