package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.repo.repodata.ServedPrimary;
import dev.kiln.rpm.Nevra;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TargetReleasesTest {

    private static ServedPrimary.Package binary(String nevra, String sourceRpm) {
        return new ServedPrimary.Package(Nevra.parse(nevra), "sha256", "0".repeat(64), "Packages/" + nevra + ".rpm", Optional.of(sourceRpm));
    }

    @Test
    void takesEveryBinaryOfTheNewestReleaseInRpmOrderOfTheSourcesAskedForOnly() {
        List<ServedPrimary.Package> listed = List.of(
                binary("tool-1.9-1.noarch", "tool-1.9-1.src.rpm"),
                binary("tool-1.10-1.noarch", "tool-1.10-1.src.rpm"),        // 1.10 is newer than 1.9 in rpm's order
                binary("tool-libs-1.10-1.x86_64", "tool-1.10-1.src.rpm"),  // a subpackage of the same release
                binary("tool-1.2-1.noarch", "tool-1.2-1.src.rpm"),
                binary("vendor-4.2-1.x86_64", "vendor-4.2-1.src.rpm"));     // not a package of this project
        assertThat(TargetReleases.newest(listed, Set.of("tool", "absent"))).extracting(p -> p.nevra().toString())
                .containsExactlyInAnyOrder("tool-1.10-1.noarch", "tool-libs-1.10-1.x86_64");
    }

    @Test
    void aSourceNameIsWhatPrecedesVersionAndRelease() {
        assertThat(TargetReleases.sourceName("my-tool-2.0-1.el9.src.rpm")).isEqualTo("my-tool");
        assertThat(TargetReleases.sourceName("tool.src.rpm")).isNull();
        assertThat(TargetReleases.sourceName("tool-1.0-1.noarch.rpm")).isNull();
    }
}
