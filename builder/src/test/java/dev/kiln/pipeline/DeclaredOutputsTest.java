package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import dev.kiln.specfile.EvaluatedSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeclaredOutputsTest {

    static final EvaluatedSpec SPEC = HostSpecs.spec("tool", """
            Name: tool
            Version: 1.0
            Release: 1
            Summary: x
            License: MIT
            %description
            x
            %package libs
            Summary: y
            %description libs
            y
            %package -n other-name
            Summary: z
            %description -n other-name
            z
            """);

    @Test
    void theSpecsPackagesAndTheDebugPackagesRpmbuildAddsAreDeclared() {
        assertThat(DeclaredOutputs.declaredNames(SPEC)).containsExactlyInAnyOrder("tool", "tool-libs", "other-name",
                "tool-debuginfo", "tool-libs-debuginfo", "other-name-debuginfo", "tool-debugsource");
    }

    @Test
    void anOutputThatIsNotAnRpmIsABuildFailureNamingItNotBadInput(@TempDir Path out) throws IOException {
        Path fake = Files.writeString(out.resolve("tool-1.0-1.noarch.rpm"), "not an rpm");
        assertThatThrownBy(() -> DeclaredOutputs.check(SPEC, List.of(fake)))
                .isInstanceOf(KilnException.class)
                .hasMessageContaining("build output tool-1.0-1.noarch.rpm is not an RPM")
                .hasMessageContaining("nothing was signed or published")
                .extracting(e -> ((KilnException) e).exitCode()).isEqualTo(KilnException.BUILD_FAILED);
    }

    @Test
    void anOutputWithoutSourceRpmIsRefused() {
        assertThatThrownBy(() -> DeclaredOutputs.check(SPEC, List.of()))
                .isInstanceOf(KilnException.class).hasMessageContaining("no source RPM");
    }
}
