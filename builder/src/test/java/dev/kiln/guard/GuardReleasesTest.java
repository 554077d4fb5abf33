package dev.kiln.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmFile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Choosing the released build among a repository's packages, on header values written by hand. */
class GuardReleasesTest {

    private static RpmFile rpm(String name, String epoch, String version, String release, String sourceRpm) {
        return new RpmFile(Path.of(name + ".rpm"), new Nevra(name, epoch, version, release, "noarch"), false, true,
                List.of(), sourceRpm, List.of(), List.of(), List.of(), List.of(), List.of());
    }

    @Test
    void derivesTheSourceNameFromTheSourceRpmEvenWhenTheNameHasDashes() {
        assertThat(rpm("maven-lib", "", "3.9.9", "1", "maven-3.9.9-1.src.rpm").sourceName()).isEqualTo("maven");
        assertThat(rpm("apache-commons-io", "", "2.16", "1.fc40", "apache-commons-io-2.16-1.fc40.src.rpm").sourceName())
                .isEqualTo("apache-commons-io");
    }

    @Test
    void picksTheHighestVersionByRpmOrderNotByText() {
        List<RpmFile> published = List.of(
                rpm("tool", "", "1.0", "1", "tool-1.0-1.src.rpm"), rpm("tool", "", "1.0", "2", "tool-1.0-2.src.rpm"),
                rpm("tool", "", "1.10", "1", "tool-1.10-1.src.rpm"), rpm("tool", "", "1.9", "1", "tool-1.9-1.src.rpm"));

        assertThat(Releases.latest(published, "tool")).singleElement()
                .satisfies(r -> assertThat(r.nevra().toString()).isEqualTo("tool-1.10-1.noarch"));
    }

    @Test
    void comparesEpochsAsNumbersBeforeVersions() {
        List<RpmFile> published = List.of(
                rpm("tool", "9", "5.0", "1", "tool-5.0-1.src.rpm"), rpm("tool", "10", "1.0", "1", "tool-1.0-1.src.rpm"),
                rpm("tool", "", "7.0", "1", "tool-7.0-1.src.rpm"));

        assertThat(Releases.latest(published, "tool")).singleElement()
                .satisfies(r -> assertThat(r.nevra().epoch()).isEqualTo("10"));
    }

    @Test
    void takesTheWholeLatestBuildSoADroppedSubpackageIsNotComparedForever() {
        List<RpmFile> published = List.of(
                rpm("tool", "", "1.0", "1", "tool-1.0-1.src.rpm"), rpm("tool-extra", "", "1.0", "1", "tool-1.0-1.src.rpm"),
                rpm("tool", "", "2.0", "1", "tool-2.0-1.src.rpm"), rpm("other", "", "9.0", "1", "other-9.0-1.src.rpm"));

        assertThat(Releases.latest(published, "tool")).extracting(r -> r.nevra().toString())
                .containsExactly("tool-2.0-1.noarch");
        assertThat(Releases.latest(published, "nothing")).isEmpty();
        assertThat(Releases.latestByName(published)).containsOnlyKeys("other", "tool", "tool-extra");
    }

    @Test
    void ignoresTheReleaseBumpInSelfProvidesAndRequiresOnTheMainPackage() {
        RpmFile.Dependency selfV1 = new RpmFile.Dependency("tool", 8, "1.0-1");
        RpmFile.Dependency selfV2 = new RpmFile.Dependency("tool", 8, "1.0-2");
        RpmFile v1 = new RpmFile(Path.of("a"), new Nevra("tool", "", "1.0", "1", "noarch"), false, false, List.of(),
                "tool-1.0-1.src.rpm", List.of(selfV1), List.of(), List.of(), List.of(), List.of());
        RpmFile v2 = new RpmFile(Path.of("b"), new Nevra("tool", "", "1.0", "2", "noarch"), false, false, List.of(),
                "tool-1.0-2.src.rpm", List.of(selfV2), List.of(), List.of(), List.of(), List.of());

        GuardReport.Compared report = ReleaseGuard.compare(List.of(v1), List.of(v2));

        assertThat(report.blocks()).isFalse();
        assertThat(report.headline()).isEqualTo("release guard: passed: no changes");
    }
}
