package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmFile;
import dev.kiln.specfile.EvaluatedSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RebuildSuffixTest {

    private static final EvaluatedSpec GREETER = HostSpecs.spec("greeter",
            "Name: greeter\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: s\nLicense: MIT\n%description\nx\n");
    /** The same spec in a builder whose macros define %dist .el9. */
    private static final EvaluatedSpec GREETER_EL9 = HostSpecs.evaluate(List.of(HostSpecs.files("greeter",
            "Name: greeter\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: s\nLicense: MIT\n%description\nx\n", java.util.Map.of())),
            "%dist .el9\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)).get("greeter").require();

    private static RpmFile published(String name, String source, String version, String release) {
        return new RpmFile(Path.of(name + ".rpm"), new Nevra(name, "", version, release, "noarch"), false, true, List.of(),
                source + "-" + version + "-" + release + ".src.rpm", List.of(), List.of(), List.of(), List.of(), List.of());
    }

    @Test
    void noSuffixWhileTheSpecsReleaseIsNotPublished() {
        assertThat(RebuildSuffix.forBuild(GREETER, List.of(), "")).isNull();
        assertThat(RebuildSuffix.forBuild(GREETER, List.of(published("greeter", "greeter", "0.9", "1"),
                published("greeter", "greeter", "1.0", "2"), published("other", "other", "1.0", "1")), "")).isNull();
    }

    @Test
    void countsUpFromTheHighestPublishedRebuild() {
        assertThat(RebuildSuffix.forBuild(GREETER, List.of(published("greeter", "greeter", "1.0", "1")), "")).isEqualTo(".rb1");
        assertThat(RebuildSuffix.forBuild(GREETER, List.of(published("greeter", "greeter", "1.0", "1"),
                published("greeter", "greeter", "1.0", "1.rb1"), published("greeter-doc", "greeter", "1.0", "1.rb2")), ""))
                .isEqualTo(".rb3");
    }

    @Test
    void keepsTheBuildersDistAndAppendsToIt() {
        assertThat(GREETER_EL9.release()).isEqualTo("1.el9");
        assertThat(RebuildSuffix.forBuild(GREETER_EL9, List.of(published("greeter", "greeter", "1.0", "1.el9")), ".el9"))
                .isEqualTo(".el9.rb1");
        assertThat(RebuildSuffix.forBuild(GREETER_EL9, List.of(published("greeter", "greeter", "1.0", "1.el9"),
                published("greeter", "greeter", "1.0", "1.el9.rb1")), ".el9")).isEqualTo(".el9.rb2");
        assertThat(RebuildSuffix.release("1.el9", ".el9", ".el9.rb2")).isEqualTo("1.el9.rb2");
        // %dist inside the release, as AlmaLinux's 4%{?dist}.alma
        assertThat(RebuildSuffix.release("4.el9.alma", ".el9", ".el9.rb1")).isEqualTo("4.el9.rb1.alma");
    }

    @Test
    void theSuffixedReleaseIsNewerForRpm() {
        assertThat(dev.kiln.rpm.RpmVersion.compare("1.rb1", "1")).isPositive();
        assertThat(dev.kiln.rpm.RpmVersion.compare("1.rb10", "1.rb9")).isPositive();
        assertThat(dev.kiln.rpm.RpmVersion.compare("2", "1.rb9")).isPositive();
    }
}
