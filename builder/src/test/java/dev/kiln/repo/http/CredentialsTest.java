package dev.kiln.repo.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.config.TargetConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialsTest {

    @TempDir
    Path dir;

    private static final TargetConfig EU = new TargetConfig("company-eu", TargetConfig.Kind.WEBDAV, Optional.empty(),
            Optional.of(URI.create("https://repo.example.com/rpms/")), "", Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofMinutes(1));

    @Test
    void theEnvironmentComesFirstTokenBeforeUserAndPassword() {
        Credentials token = Credentials.forTarget(EU, Map.of("KILN_TARGET_COMPANY_EU_TOKEN", "t0k",
                "KILN_TARGET_COMPANY_EU_USERNAME", "u", "KILN_TARGET_COMPANY_EU_PASSWORD", "p")).orElseThrow();
        assertThat(token.authorization()).isEqualTo("Bearer t0k");
        Credentials basic = Credentials.forTarget(EU, Map.of("KILN_TARGET_COMPANY_EU_USERNAME", "u",
                "KILN_TARGET_COMPANY_EU_PASSWORD", "p")).orElseThrow();
        assertThat(basic.authorization()).isEqualTo("Basic " + Base64.getEncoder().encodeToString("u:p".getBytes(StandardCharsets.UTF_8)));
        assertThat(basic.toString()).isEqualTo("credentials from KILN_TARGET_COMPANY_EU_USERNAME").doesNotContain("p ");
        assertThatThrownBy(() -> Credentials.forTarget(EU, Map.of("KILN_TARGET_COMPANY_EU_USERNAME", "u")))
                .hasMessageContaining("KILN_TARGET_COMPANY_EU_USERNAME is set but not KILN_TARGET_COMPANY_EU_PASSWORD");
    }

    @Test
    void aNetrcEntryForTheHostOrTheDefaultOne() throws Exception {
        Path netrc = dir.resolve("netrc");
        Files.writeString(netrc, """
                machine other.example.com login nobody password wrong
                machine repo.example.com
                  login deploy
                  password s3cret
                default login anon password anon
                """);
        Credentials c = Credentials.forTarget(EU, Map.of("NETRC", netrc.toString())).orElseThrow();
        assertThat(c.username()).isEqualTo("deploy");
        assertThat(c.authorization()).isEqualTo("Basic " + Base64.getEncoder().encodeToString("deploy:s3cret".getBytes(StandardCharsets.UTF_8)));
        Files.writeString(netrc, "machine other.example.com login nobody password wrong\ndefault login anon password anon\n");
        assertThat(Credentials.forTarget(EU, Map.of("NETRC", netrc.toString())).orElseThrow().username()).isEqualTo("anon");
        assertThat(Credentials.forTarget(EU, Map.of("NETRC", dir.resolve("none").toString()))).isEmpty();
    }
}
