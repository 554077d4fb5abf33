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

    private static final String KEY_TEXT = SigningConfig.ARMOR_HEADER + "\n\nlQVYBGZzSECRET\n-----END PGP PRIVATE KEY BLOCK-----\n";

    @Test
    void signingKeyTextInTheEnvironmentIsTheKeyNotAPath() {
        KilnConfig c = ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", KEY_TEXT, "KILN_SIGNING_PASSPHRASE", "pw"), Map.of());
        assertThat(c.signing().isText()).isTrue();
        assertThat(c.signing().armoredKey()).isEqualTo(KEY_TEXT);
        assertThat(c.signing().origin()).isEqualTo("KILN_SIGNING_KEY");
        assertThat(c.signing().key()).isNull();
        assertThat(c.signing().publicKey()).isNull();
        assertThat(c.signing().passphrase()).containsExactly('p', 'w');
        assertThat(c.toString()).doesNotContain("SECRET");
    }

    @Test
    void signingKeyPathInTheEnvironmentStaysAPath() {
        KilnConfig c = ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", "/run/secrets/kiln.asc"), Map.of());
        assertThat(c.signing().isText()).isFalse();
        assertThat(c.signing().key()).isEqualTo(Path.of("/run/secrets/kiln.asc"));
        assertThat(c.signing().publicKey()).isEqualTo(Path.of("/run/secrets/kiln.asc.pub"));
    }

    @Test
    void signingKeyTextIsRefusedInKilnYamlWithoutEchoingIt() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), "signing:\n  key: |\n" + KEY_TEXT.indent(4));
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of(), Map.of()))
                .hasMessageContaining("signing.key must name a key file, not hold the key")
                .hasMessageContaining("KILN_SIGNING_KEY")
                .hasMessageNotContaining("SECRET");
    }

    @Test
    void signingKeyVariableHoldingAPublicKeyOrOtherTextIsBadInputWithoutEchoingIt() {
        String publicBlock = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQGNBGSECRET\n-----END PGP PUBLIC KEY BLOCK-----\n";
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", publicBlock), Map.of()))
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessageStartingWith("KILN_SIGNING_KEY holds an OpenPGP block that is not a secret key")
                .hasMessageNotContaining("SECRET");
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", "lQVYBGZzSECRET\nmore"), Map.of()))
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessageStartingWith("KILN_SIGNING_KEY is neither a file path nor an ASCII-armored secret key")
                .hasMessageNotContaining("SECRET");
    }
}
