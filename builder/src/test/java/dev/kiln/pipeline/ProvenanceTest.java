package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ProvenanceTest {

    /** Field names from in-toto Statement v1 and its ResourceDescriptor, and SLSA Provenance v1. */
    private static final Set<String> STATEMENT = Set.of("_type", "subject", "predicateType", "predicate");
    private static final Set<String> DESCRIPTOR = Set.of("name", "uri", "digest", "content", "downloadLocation", "mediaType", "annotations");
    private static final Set<String> PREDICATE = Set.of("buildDefinition", "runDetails");
    private static final Set<String> BUILD_DEFINITION = Set.of("buildType", "externalParameters", "internalParameters", "resolvedDependencies");
    private static final Set<String> RUN_DETAILS = Set.of("builder", "metadata", "byproducts");
    private static final Set<String> BUILDER = Set.of("id", "builderDependencies", "version");
    private static final Set<String> METADATA = Set.of("invocationId", "startedOn", "finishedOn");

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    private static final String SHA512 = "AB".repeat(64);
    private static final BuildKey KEY = new BuildKey("sha256:" + "5".repeat(64));

    @TempDir
    Path dir;

    private Provenance provenance(boolean dirty, String revision) throws IOException {
        Path rpm = Files.writeString(dir.resolve("hello-1.0-1.noarch.rpm"), "binary");
        Path srpm = Files.writeString(dir.resolve("hello-1.0-1.src.rpm"), "source");
        return new Provenance("hello", revision, COMMIT, dirty, dev.kiln.git.SourceMirror.provenanceUri(java.util.Optional.empty(), dir.resolve("defs")),
                List.of("kiln", "build", "hello", "--rev", "v1"), KEY, "el9", "sha256:" + "9".repeat(64), "sha256:tool",
                Map.of("hello-1.0.tar.gz", SHA512, "a-extra.tar.gz", "cd".repeat(64)), List.of(rpm, srpm),
                "20240101-120000-000", Instant.parse("2024-01-01T12:00:00Z"), Instant.parse("2024-01-01T12:01:30.5Z"), "0.1.0");
    }

    @Test
    void rendersAnInTotoStatementWithSlsaProvenanceThatParsesBack() throws IOException {
        JsonNode s = JSON.readTree(provenance(false, "v1").render());

        assertThat(names(s)).containsExactly("_type", "subject", "predicateType", "predicate");
        assertThat(s.get("_type").asString()).isEqualTo("https://in-toto.io/Statement/v1");
        assertThat(s.get("predicateType").asString()).isEqualTo("https://slsa.dev/provenance/v1");

        // Subjects sorted by file name, each with the file's real SHA-256.
        assertThat(s.get("subject")).hasSize(2);
        assertThat(s.get("subject").get(0).get("name").asString()).isEqualTo("hello-1.0-1.noarch.rpm");
        assertThat(s.get("subject").get(0).get("digest").get("sha256").asString())
                .isEqualTo(sha256Hex("binary"));
        assertThat(s.get("subject").get(1).get("name").asString()).isEqualTo("hello-1.0-1.src.rpm");
        assertThat(s.get("subject").get(1).get("digest").get("sha256").asString()).isEqualTo(sha256Hex("source"));

        JsonNode def = s.get("predicate").get("buildDefinition");
        assertThat(def.get("buildType").asString()).isEqualTo("https://kiln.dev/rpmbuild/v1");
        JsonNode ext = def.get("externalParameters");
        assertThat(names(ext)).containsExactly("package", "revision", "commit", "dirty", "command");
        assertThat(ext.get("package").asString()).isEqualTo("hello");
        assertThat(ext.get("revision").asString()).isEqualTo("v1");
        assertThat(ext.get("commit").asString()).isEqualTo(COMMIT);
        assertThat(ext.get("dirty").asBoolean()).isFalse();
        assertThat(ext.get("command").valueStream().map(JsonNode::asString)).containsExactly("kiln", "build", "hello", "--rev", "v1");
        JsonNode internal = def.get("internalParameters");
        assertThat(internal.get("buildKey").asString()).isEqualTo(KEY.value());
        assertThat(internal.get("builder").asString()).isEqualTo("el9");
        assertThat(internal.get("recipe").asString()).isEqualTo(BuildKey.RECIPE);

        JsonNode deps = def.get("resolvedDependencies");
        assertThat(deps).hasSize(4);
        assertThat(deps.get(0).get("uri").asString()).isEqualTo("git+file://" + dir.resolve("defs").toAbsolutePath());
        assertThat(deps.get(0).get("digest").get("gitCommit").asString()).isEqualTo(COMMIT);
        assertThat(deps.get(0).has("annotations")).isFalse();
        assertThat(deps.get(1).get("name").asString()).isEqualTo("a-extra.tar.gz");
        assertThat(deps.get(2).get("name").asString()).isEqualTo("hello-1.0.tar.gz");
        assertThat(deps.get(2).get("digest").get("sha512").asString()).isEqualTo(SHA512.toLowerCase());
        assertThat(deps.get(3).get("uri").asString()).isEqualTo("docker-image://el9");
        assertThat(deps.get(3).get("digest").get("sha256").asString()).isEqualTo("9".repeat(64));
        assertThat(deps.get(3).get("annotations").get("toolchain").asString()).isEqualTo("sha256:tool");

        JsonNode run = s.get("predicate").get("runDetails");
        assertThat(run.get("builder").get("id").asString()).isEqualTo("https://kiln.dev/builder/kiln@0.1.0");
        assertThat(run.get("builder").get("version").get("kiln").asString()).isEqualTo("0.1.0");
        assertThat(run.get("metadata").get("invocationId").asString()).isEqualTo("20240101-120000-000");
        assertThat(run.get("metadata").get("startedOn").asString()).isEqualTo("2024-01-01T12:00:00Z");
        assertThat(run.get("metadata").get("finishedOn").asString()).isEqualTo("2024-01-01T12:01:30.500Z");
        assertThat(Instant.parse(run.get("metadata").get("finishedOn").asString())).isAfter(Instant.parse("2024-01-01T12:01:30Z"));
    }

    @Test
    void usesOnlyFieldNamesThePublishedSpecsDefine() throws IOException {
        JsonNode s = JSON.readTree(provenance(true, null).render());
        assertThat(names(s)).isSubsetOf(STATEMENT);
        s.get("subject").forEach(d -> assertThat(names(d)).isSubsetOf(DESCRIPTOR).contains("digest"));
        JsonNode predicate = s.get("predicate");
        assertThat(names(predicate)).isSubsetOf(PREDICATE);
        assertThat(names(predicate.get("buildDefinition"))).isSubsetOf(BUILD_DEFINITION).contains("buildType", "externalParameters");
        predicate.get("buildDefinition").get("resolvedDependencies")
                .forEach(d -> assertThat(names(d)).isSubsetOf(DESCRIPTOR).containsAnyOf("uri", "name", "digest"));
        assertThat(names(predicate.get("runDetails"))).isSubsetOf(RUN_DETAILS).contains("builder");
        assertThat(names(predicate.get("runDetails").get("builder"))).isSubsetOf(BUILDER).contains("id");
        assertThat(names(predicate.get("runDetails").get("metadata"))).isSubsetOf(METADATA);
        // DigestSet values are lower-case hex, or a Git commit id.
        s.get("subject").forEach(d -> assertThat(d.get("digest").get("sha256").asString()).matches("[0-9a-f]{64}"));
    }

    @Test
    void aDirtyTreeIsMarkedOnTheCommitAndTheWorkingTreeHasNoRevision() throws IOException {
        JsonNode s = JSON.readTree(provenance(true, null).render());
        JsonNode ext = s.get("predicate").get("buildDefinition").get("externalParameters");
        assertThat(ext.get("dirty").asBoolean()).isTrue();
        assertThat(ext.has("revision")).isFalse();
        JsonNode git = s.get("predicate").get("buildDefinition").get("resolvedDependencies").get(0);
        assertThat(git.get("annotations").get("dirty").asBoolean()).isTrue();
    }

    @Test
    void rendersTheSameBytesForTheSameBuild() throws IOException {
        assertThat(provenance(false, "v1").render()).isEqualTo(provenance(false, "v1").render());
    }

    private static List<String> names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.propertyNames().forEach(names::add);
        return names;
    }

    private static String sha256Hex(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
