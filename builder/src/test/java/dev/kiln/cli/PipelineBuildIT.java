package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.KilnProject;
import dev.kiln.container.BuildContainer;
import dev.kiln.container.DockerEngine;
import dev.kiln.rpm.TestRpms;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Kiln as a CI step on a repository with a dependency chain (libgreet <- BuildRequires - greeter
 * <- Requires - greeter-motd) and independent packages: what changed is built with its
 * dependents in order, the dependent gets the fresh library installed, a second run builds
 * nothing, a failure publishes nothing, and builds are reproducible.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineBuildIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path tmp;

    static KilnProject project;

    @BeforeAll
    static void project() throws Exception {
        project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
        // maven needs the network and time; this IT is about the others.
        KilnProject.deleteTree(project.root().resolve("specs/maven"));
        KilnProject.deleteTree(project.root().resolve("patches/maven"));
        project.commit("without maven");
    }

    private static JsonNode json(KilnProject.Result r) {
        return JSON.readTree(r.stdout());
    }

    private static Map<String, String> statuses(JsonNode doc) {
        Map<String, String> m = new java.util.TreeMap<>();
        doc.get("builds").forEach(b -> m.put(b.get("package").asString(), b.get("status").asString()));
        return m;
    }

    @Test
    @Order(1)
    void buildsEverythingInDependencyOrderInParallelAndPublishesWithProvenance() throws Exception {
        KilnProject.Result r = project.run("build", "--all", "--jobs", "2", "--json", "--report-junit", "out/junit.xml");
        assertThat(r.exitCode()).as(r.describe()).isZero();
        JsonNode doc = json(r);
        assertThat(statuses(doc)).containsExactly(Map.entry("greeter", "built"), Map.entry("greeter-motd", "built"),
                Map.entry("hello", "built"), Map.entry("libgreet", "built"));
        assertThat(doc.get("published").asBoolean()).isTrue();
        // greeter was built after libgreet, from the freshly built library installed into its build image.
        Path greeterLog = Path.of(StreamSupport.stream(doc.get("builds").spliterator(), false)
                .filter(b -> b.get("package").asString().equals("greeter")).findFirst().orElseThrow().get("record").asString())
                .resolve("build.log");
        assertThat(greeterLog).content().contains("install build dependencies [libgreet-1.0-1.noarch.rpm]")
                .contains("+ test Hello, Kiln! = Hello, Kiln!");
        assertThat(r.stderr()).contains("greeter: Start: rpmbuild").contains("libgreet: Start: rpmbuild");

        Document junit = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(project.root().resolve("out/junit.xml").toFile());
        assertThat(junit.getElementsByTagName("testcase").getLength()).isEqualTo(4);
        assertThat(junit.getElementsByTagName("failure").getLength()).isZero();

        // Provenance next to each RPM: subject digest and build key match.
        Path rpm = project.repository().resolve("Packages/greeter-1.0-1.noarch.rpm");
        JsonNode provenance = JSON.readTree(project.repository().resolve("Packages/greeter-1.0-1.noarch.rpm.provenance.json").toFile());
        assertThat(provenance.get("_type").asString()).isEqualTo("https://in-toto.io/Statement/v1");
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(rpm)));
        assertThat(provenance.get("subject").toString()).contains(sha);
        String greeterKey = StreamSupport.stream(doc.get("builds").spliterator(), false)
                .filter(b -> b.get("package").asString().equals("greeter")).findFirst().orElseThrow().get("buildKey").asString();
        assertThat(provenance.get("predicate").get("buildDefinition").get("internalParameters").get("buildKey").asString())
                .isEqualTo(greeterKey);
    }

    @Test
    @Order(2)
    void aSecondRunOfTheSameRevisionBuildsNothing() {
        String repo = KilnProject.treeDigest(project.root().resolve(".kiln/repo"));
        KilnProject.Result r = project.run("build", "--all", "--json");
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(statuses(json(r)).values()).containsOnly("up-to-date");
        assertThat(r.stderr()).doesNotContain("Start: rpmbuild");
        assertThat(KilnProject.treeDigest(project.root().resolve(".kiln/repo"))).isEqualTo(repo);
    }

    @Test
    @Order(3)
    void aChangeBuildsOnlyThatPackageAndItsDependents() {
        project.write("specs/libgreet/greet.sh", project.read("specs/libgreet/greet.sh").replace("Hello", "Hello"));
        String spec = project.read("specs/libgreet/libgreet.spec");
        project.write("specs/libgreet/libgreet.spec", spec.replace("Release:        1%{?dist}", "Release:        2%{?dist}"));
        project.commit("libgreet 1.0-2");
        KilnProject.Result r = project.run("build", "--changed-since", "HEAD~1", "--json");
        assertThat(r.exitCode()).as(r.describe()).isZero();
        JsonNode doc = json(r);
        assertThat(statuses(doc)).containsExactly(Map.entry("greeter", "built"), Map.entry("libgreet", "built"));
        assertThat(r.stderr()).contains("with their dependents: [greeter, libgreet]");
        // greeter's own definitions did not change, but 1.0-1 is published: it is rebuilt with a rebuild suffix.
        assertThat(doc.get("builds").findValuesAsString("nevra")).contains("greeter-1.0-1.rb1.noarch", "libgreet-1.0-2.noarch");
        assertThat(project.run("repo", "list").stdout()).contains("greeter-1.0-1.noarch").contains("greeter-1.0-1.rb1.noarch");
    }

    @Test
    @Order(4)
    void aBuilderChangeRebuildsEveryPackageThatUsesIt() {
        project.write("containers/rpm-builder/provides", project.read("containers/rpm-builder/provides") + "# a comment changes the context\n");
        KilnProject.Result pin = project.run("image", "build", "rpm-builder");
        assertThat(pin.exitCode()).as(pin.describe()).isZero();
        project.commit("builder change");
        KilnProject.Result r = project.run("build", "--changed-since", "HEAD~1", "--no-publish", "--json");
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(statuses(json(r)).keySet()).containsExactly("greeter", "greeter-motd", "hello", "libgreet");
        assertThat(r.stderr()).contains("builder rpm-builder changed");
    }

    @Test
    @Order(5)
    void aFailureInOnePackagePublishesNothing() throws Exception {
        String hello = project.read("specs/hello/hello.spec");
        String greeter = project.read("specs/greeter/greeter.spec");
        project.write("specs/hello/hello.spec", hello.replace("Release:        1%{?dist}", "Release:        2%{?dist}"));
        project.write("specs/greeter/greeter.spec", greeter.replace("Release:        1%{?dist}", "Release:        2%{?dist}")
                .replace("= \"Hello, Kiln!\"", "= \"Bonjour, Kiln!\""));
        project.commit("hello 2, greeter broken");
        String repo = KilnProject.treeDigest(project.root().resolve(".kiln/repo"));
        KilnProject.Result r = project.run("build", "--changed-since", "HEAD~1", "--keep-going", "--json", "--report-junit", "out/fail.xml");
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
        JsonNode doc = json(r);
        assertThat(doc.has("builds")).as(r.describe()).isTrue();
        assertThat(statuses(doc)).containsExactly(Map.entry("greeter", "failed"), Map.entry("hello", "built"));
        assertThat(doc.get("published").asBoolean()).isFalse();
        assertThat(KilnProject.treeDigest(project.root().resolve(".kiln/repo"))).as("nothing published").isEqualTo(repo);
        Document junit = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(project.root().resolve("out/fail.xml").toFile());
        assertThat(junit.getElementsByTagName("failure").getLength()).isEqualTo(1);
        project.write("specs/greeter/greeter.spec", greeter);
        project.commit("greeter fixed");
    }

    @Test
    @Order(6)
    void twoBuildsOfOneRevisionHaveIdenticalPayloads() throws Exception {
        KilnProject.Result check = project.run("build", "hello", "--check-reproducible", "--json");
        assertThat(check.exitCode()).as(check.describe()).isZero();
        KilnProject.Result a = project.run("build", "libgreet", "--force", "--no-publish", "--json");
        KilnProject.Result b = project.run("build", "libgreet", "--force", "--no-publish", "--json");
        assertThat(a.exitCode()).as(a.describe()).isZero();
        assertThat(b.exitCode()).as(b.describe()).isZero();
        String rpmA = json(a).get("builds").get(0).get("rpms").get(0).asString();
        String rpmB = json(b).get("builds").get(0).get("rpms").get(0).asString();
        assertThat(rpmA).isNotEqualTo(rpmB);
        assertThat(payloadDigest(rpmA)).isEqualTo(payloadDigest(rpmB)).isNotBlank();
    }

    @Test
    @Order(7)
    void badInputIsRefusedBeforeAnyContainerStarts() throws Exception {
        DockerEngine engine = DockerEngine.connect(project.root().resolve(".kiln"), s -> { });
        int containersBefore = engine.client().listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec().size();
        expect(project.run("build", "--changed-since", "no-such-ref"), "--changed-since no-such-ref: no such revision");
        expect(project.run("build", "--all", "--jobs", "0"), "--jobs '0' must be a whole number, 1 or more");
        expect(project.run("build", "hello", "--all"), "exactly one of them");
        project.write("specs/cyc-a/cyc-a.spec", "Name: cyc-a\nVersion: 1\nRelease: 1\nSummary: a\nLicense: MIT\nBuildRequires: cyc-b\n%description\na\n");
        project.write("specs/cyc-b/cyc-b.spec", "Name: cyc-b\nVersion: 1\nRelease: 1\nSummary: b\nLicense: MIT\nBuildRequires: cyc-a\n%description\nb\n");
        KilnProject.Result cycle = expect(project.run("build", "cyc-a"), "dependency cycle in BuildRequires: cyc-a -> cyc-b -> cyc-a");
        assertThat(cycle.stderr()).doesNotContain("Start: rpmbuild");
        KilnProject.deleteTree(project.root().resolve("specs/cyc-a"));
        KilnProject.deleteTree(project.root().resolve("specs/cyc-b"));
        project.write("specs/orphan/orphan.spec", "Name: orphan\nVersion: 1\nRelease: 1\nSummary: o\nLicense: MIT\nBuildRequires: libnobody-devel\n%description\no\n");
        expect(project.run("build", "orphan"), "specs/orphan/orphan.spec:6: BuildRequires libnobody-devel: nobody provides it");
        KilnProject.deleteTree(project.root().resolve("specs/orphan"));
        assertThat(engine.client().listContainersCmd().withShowAll(true).withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec())
                .hasSize(containersBefore);
    }

    private static KilnProject.Result expect(KilnProject.Result r, String fragment) {
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr()).as(r.describe()).contains(fragment);
        return r;
    }

    private static String payloadDigest(String rpm) throws Exception {
        String out = TestRpms.run("rpm", "-qp", "--qf", "%{PAYLOADDIGEST}\\n", rpm).output().strip();
        return out.lines().reduce((a, b) -> b).orElse("");
    }

}
