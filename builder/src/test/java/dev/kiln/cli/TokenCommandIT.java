package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.service.ServiceDatabase;
import dev.kiln.service.TokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./kiln token create|list|revoke} through the real launcher, on the service's machine. */
class TokenCommandIT {

    @TempDir
    Path dir;

    @Test
    void aTokenIsPrintedOnceListedWithoutItsSecretAndRevokedAndBadScopesAreOneLineExit2() throws Exception {
        KilnProject project = KilnProject.settingsOnly(Files.createDirectories(dir.resolve("service")), "");
        KilnProject.Result made = project.run("token", "create", "ci", "--scope", "publish", "--expires", "30d", "--json");
        assertThat(made.exitCode()).as(made.describe()).isZero();
        JsonNode doc = new ObjectMapper().readTree(made.stdout());
        String secret = doc.get("secret").asText();
        assertThat(secret).startsWith(TokenStore.PREFIX);
        assertThat(doc.get("scope").asText()).isEqualTo("publish");
        assertThat(doc.get("expires").asText()).isNotEmpty();
        assertThat(made.stderr()).doesNotContain(secret);

        KilnProject.Result bad = project.run("token", "create", "other", "--scope", "root");
        assertThat(bad.exitCode()).as(bad.describe()).isEqualTo(2);
        assertThat(bad.stderr().lines().filter(l -> l.startsWith("kiln: ")).toList()).as(bad.describe())
                .containsExactly("kiln: --scope 'root' is not a scope: give one of build, publish, admin");

        KilnProject.Result revoked = project.run("token", "revoke", "ci");
        assertThat(revoked.exitCode()).as(revoked.describe()).isZero();
        KilnProject.Result listed = project.run("token", "list", "--json");
        assertThat(listed.exitCode()).as(listed.describe()).isZero();
        assertThat(listed.stdout()).doesNotContain(secret);
        JsonNode tokens = new ObjectMapper().readTree(listed.stdout()).get("tokens");
        assertThat(tokens).hasSize(1);
        assertThat(tokens.get(0).get("name").asText()).isEqualTo("ci");
        assertThat(tokens.get(0).get("valid").asBoolean()).isFalse();
        assertThat(tokens.get(0).get("revoked").asText()).isNotEmpty();

        // what the commands wrote is the service's database: the secret made above signed in until it was revoked
        try (ServiceDatabase db = ServiceDatabase.embedded(project.root().resolve(".kiln/service"))) {
            TokenStore store = new TokenStore(db, Clock.systemUTC());
            assertThat(store.list()).singleElement().satisfies(t -> assertThat(t.revoked()).isPresent());
            assertThat(store.authenticate(secret)).isEmpty();
        }
    }
}
