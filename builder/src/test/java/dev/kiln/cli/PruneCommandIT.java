package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SyntheticRpms;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./kiln repo prune} through the real launcher: its exit codes, its JSON, and what it leaves for list, verify and serve. */
class PruneCommandIT {

    @TempDir
    static Path dir;

    @Test
    void badKeepValuesAreOneLineExit2AndAPruneLeavesTheNewestForListAndVerify() throws Exception {
        KilnProject project = KilnProject.create(Files.createDirectories(dir.resolve("project")));
        RpmSigner vendor = new RpmSigner(KeyGenerator.generate(dir.resolve("v.asc"), dir.resolve("v.pub"), "V <v@example.com>",
                "pw".toCharArray()));
        Path rpms = dir.resolve("rpms");
        for (String v : List.of("2.9", "2.10")) {
            KilnProject.Result published = project.run("repo", "publish", "--sign",
                    SyntheticRpms.write(rpms, "cli-pkg", v, vendor).toString());
            assertThat(published.exitCode()).as(published.describe()).isZero();
        }
        Path repomd = project.repository().resolve("repodata/repomd.xml");
        byte[] before = Files.readAllBytes(repomd);

        // through the launcher, one bad value: exit 2, one line, nothing changed (the other refusals are PruneCommandTest's)
        KilnProject.Result bad = project.run("repo", "prune", "--keep", "0");
        assertThat(bad.exitCode()).as(bad.describe()).isEqualTo(2);
        List<String> errors = bad.stderr().lines().filter(l -> l.startsWith("kiln: ")).toList();
        assertThat(errors).as("told in one line: " + bad.describe()).hasSize(1);
        assertThat(errors.getFirst()).contains("--keep");
        assertThat(bad.stderr()).as("no stack trace").doesNotContain("\tat ");
        assertThat(Files.readAllBytes(repomd)).as("a refused prune changes nothing").isEqualTo(before);

        KilnProject.Result dry = project.run("repo", "prune", "--dry-run", "--keep", "1", "--json");
        assertThat(dry.exitCode()).as(dry.describe()).isZero();
        JsonNode dryDoc = new ObjectMapper().readTree(dry.stdout());
        assertThat(dryDoc.get("dryRun").asBoolean()).isTrue();
        assertThat(texts(dryDoc.get("removed"))).containsExactly("cli-pkg-2.9-1.noarch");
        assertThat(Files.readAllBytes(repomd)).as("a dry run changes nothing").isEqualTo(before);

        KilnProject.Result pruned = project.run("repo", "prune", "--json", "--keep", "1", "--target", "local");
        assertThat(pruned.exitCode()).as(pruned.describe()).isZero();
        JsonNode doc = new ObjectMapper().readTree(pruned.stdout());
        assertThat(texts(doc.get("removed"))).containsExactly("cli-pkg-2.9-1.noarch");
        assertThat(texts(doc.get("kept"))).containsExactly("cli-pkg-2.10-1.noarch");
        assertThat(doc.get("metadataChanged").asBoolean()).isTrue();

        KilnProject.Result list = project.run("repo", "list", "--json");
        assertThat(texts(new ObjectMapper().readTree(list.stdout()).get("packages"))).containsExactly("cli-pkg-2.10-1.noarch");
        KilnProject.Result verify = project.run("repo", "verify");
        assertThat(verify.exitCode()).as(verify.describe()).isZero();

        // repo serve --json says, once listening, where it serves: the pruned repository, read back through it
        Process serve = project.start(List.of("repo", "serve", "--port", "0", "--json"), java.util.Map.of());
        try {
            // one document, read as it comes (the server goes on running)
            ObjectMapper mapper = new ObjectMapper();
            JsonNode served = mapper.readTree(mapper.getFactory().createParser(serve.getInputStream()));
            assertThat(served).as("repo serve's document").isNotNull();
            assertThat(served.get("repository").asText()).isEqualTo(project.repository().toString());
            assertThat(served.get("dnfInstall").asText()).contains("--repofrompath=").contains(served.get("url").asText().replaceAll("/+$", ""));
            var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(served.get("url").asText()).resolve("repodata/repomd.xml")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo(Files.readAllBytes(repomd));
        } finally {
            serve.destroy();
            serve.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }
}
