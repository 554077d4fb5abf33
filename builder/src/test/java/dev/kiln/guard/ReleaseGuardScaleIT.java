package dev.kiln.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.TestRpms;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real RPMs of about 1000 files each whose install folder moved: checks the report and prints how
 * long reading and comparing took. The figures are printed, not asserted: timing depends on the host.
 */
class ReleaseGuardScaleIT {

    private static String spec(String version, String root) {
        return """
                Name: big
                Version: %1$s
                Release: 1
                Summary: many files
                License: MIT
                BuildArch: noarch
                %%description
                many files
                %%install
                for d in $(seq 1 20); do
                  mkdir -p %%{buildroot}%2$s/d$d
                  for f in $(seq 1 49); do echo $d$f > %%{buildroot}%2$s/d$d/f$f.txt; done
                done
                %%files
                %2$s
                %%changelog
                """.formatted(version, root);
    }

    @Test
    void reportsEveryMoveOfAThousandFileFolder(@TempDir Path work) throws Exception {
        Path v1 = TestRpms.binaries(work, spec("1.0", "/opt/big")).getFirst();
        Path v2 = TestRpms.binaries(work, spec("2.0", "/opt/big-2.0")).getFirst();

        long readStart = System.nanoTime();
        RpmFile released = RpmFile.read(v1);
        RpmFile candidate = RpmFile.read(v2);
        long readNanos = System.nanoTime() - readStart;
        GuardReport.Compared report = ReleaseGuard.compare(List.of(released), List.of(candidate));
        long firstCompareNanos = System.nanoTime() - readStart - readNanos;
        int rounds = 20;
        long warmStart = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
            ReleaseGuard.compare(List.of(released), List.of(candidate)).render();
        }
        long warmNanos = (System.nanoTime() - warmStart) / rounds;

        assertThat(released.files()).hasSize(1001);
        PathChanges paths = ((PackageChange.Compared) report.packages().getFirst()).paths();
        assertThat(paths.moved()).hasSize(1001);
        assertThat(paths.folderMoves()).containsExactly(new FolderMove("/opt/big", "/opt/big-2.0", 1001));
        assertThat(paths.removed()).isEmpty();
        System.out.printf("release guard scale: %d vs %d paths: read both headers %.1f ms, first compare %.1f ms, "
                + "warm compare+render %.2f ms%n", released.files().size(), candidate.files().size(),
                readNanos / 1e6, firstCompareNanos / 1e6, warmNanos / 1e6);
    }
}
