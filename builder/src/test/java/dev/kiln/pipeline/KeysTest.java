package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import dev.kiln.config.ConfigLoader;
import dev.kiln.config.KilnConfig;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysTest {

    @TempDir
    Path root;
    @TempDir
    Path secrets;

    private final List<String> notices = new ArrayList<>();
    private final BuildListener listener = new BuildListener() {
        @Override
        public void stage(String name) {
        }

        @Override
        public void notice(String message) {
            notices.add(message);
        }

        @Override
        public void log(String line) {
        }
    };

    @Test
    void keyTextFromTheEnvironmentIsUsedAndNothingIsWrittenToTheProject() throws Exception {
        SigningKey original = KeyGenerator.generate(secrets.resolve("ci.asc"), secrets.resolve("ci.asc.pub"), "CI <ci@kiln.dev>", "pw".toCharArray());
        String text = Files.readString(secrets.resolve("ci.asc"));
        KilnConfig config = ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", text, "KILN_SIGNING_PASSPHRASE", "pw"), Map.of());

        SigningKey key = Keys.loadOrCreate(config.signing(), config.state(), listener);

        assertThat(key.keyId()).isEqualTo(original.keyId());
        assertThat(key.origin()).isEqualTo("KILN_SIGNING_KEY");
        assertThat(notices).isEmpty();
        try (var left = Files.walk(root)) {
            assertThat(left.filter(p -> !p.equals(root))).isEmpty();
        }
    }

    @Test
    void generateRefusesWhenTheSettingHoldsKeyText() throws Exception {
        KeyGenerator.generate(secrets.resolve("ci.asc"), secrets.resolve("ci.asc.pub"), "CI <ci@kiln.dev>", new char[0]);
        KilnConfig config = ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", Files.readString(secrets.resolve("ci.asc"))), Map.of());
        assertThatThrownBy(() -> Keys.generate(config.signing()))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageStartingWith("KILN_SIGNING_KEY holds a secret key itself")
                .hasMessageNotContaining("BEGIN PGP");
    }

    @Test
    void missingDevelopmentKeyIsStillCreatedUnderTheStateFolder() {
        KilnConfig config = ConfigLoader.load(root, Map.of(), Map.of());
        SigningKey key = Keys.loadOrCreate(config.signing(), config.state(), listener);
        assertThat(config.signing().key()).exists();
        assertThat(notices).singleElement().asString().contains("created a development signing key " + key.keyId());
    }
}
