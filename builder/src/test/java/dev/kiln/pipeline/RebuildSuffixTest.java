package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmFile;
import dev.kiln.specfile.SpecFile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RebuildSuffixTest {

    private static final SpecFile GREETER = SpecFile.parse("specs/greeter/greeter.spec",
            "Name: greeter\nVersion: 1.0\nRelease: 1%{?dist}\n%description\nx\n");

    private static RpmFile published(String name, String source, String version, String release) {
        return new RpmFile(Path.of(name + ".rpm"), new Nevra(name, "", version, release, "noarch"), false, true, List.of(),
                source + "-" + version + "-" + release + ".src.rpm", List.of(), List.of(), List.of(), List.of(), List.of());
    }

    @Test
    void noSuffixWhileTheSpecsReleaseIsNotPublished() {
        assertThat(RebuildSuffix.forBuild(GREETER, List.of())).isNull();
        assertThat(RebuildSuffix.forBuild(GREETER, List.of(published("greeter", "greeter", "0.9", "1"),
                published("greeter", "greeter", "1.0", "2"), published("other", "other", "1.0", "1")))).isNull();
    }

    @Test
    void countsUpFromTheHighestPublishedRebuild() {
        assertThat(RebuildSuffix.forBuild(GREETER, List.of(published("greeter", "greeter", "1.0", "1")))).isEqualTo(".rb1");
        assertThat(RebuildSuffix.forBuild(GREETER, List.of(published("greeter", "greeter", "1.0", "1"),
                published("greeter", "greeter", "1.0", "1.rb1"), published("greeter-doc", "greeter", "1.0", "1.rb2"))))
                .isEqualTo(".rb3");
    }

    @Test
    void theSuffixedReleaseIsNewerForRpm() {
        assertThat(dev.kiln.specfile.RpmVersion.compare("1.rb1", "1")).isPositive();
        assertThat(dev.kiln.specfile.RpmVersion.compare("1.rb10", "1.rb9")).isPositive();
        assertThat(dev.kiln.specfile.RpmVersion.compare("2", "1.rb9")).isPositive();
    }
}
