package dev.kiln.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path root;

    @Test
    void fileThenEnvironmentThenOptions() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), "builder: from-file\nbuild:\n  timeout: 5m\nrepository: repo-file\n");
        KilnConfig c = ConfigLoader.load(root, Map.of("KILN_BUILDER", "from-env", "KILN_BUILD_TIMEOUT", "90s"),
                Map.of("builder", "from-option"));
        assertThat(c.builder()).isEqualTo("from-option");
        assertThat(c.build().timeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.repository()).isEqualTo(root.toAbsolutePath().resolve("repo-file"));
        assertThat(c.build().memoryBytes()).isEqualTo(2L << 30);
    }

    @Test
    void unknownSettingNamesTheFile() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), "buidler: x\n");
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of(), Map.of()))
                .hasMessageContaining("kiln.yaml: unknown setting 'buidler'");
    }

    @Test
    void passphraseIsNeverReadFromTheFile() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), "signing:\n  passphrase: secret\n");
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of(), Map.of()))
                .hasMessageContaining("set KILN_SIGNING_PASSPHRASE instead");
    }

    @Test
    void badValuesSayWhatIsExpected() {
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_BUILD_TIMEOUT", "soon"), Map.of()))
                .hasMessage("build.timeout 'soon' is not a duration: write it like 90s, 30m or 2h");
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_BUILD_PIDS", "-3"), Map.of()))
                .hasMessage("build.pids '-3' must be a positive whole number");
    }
}
