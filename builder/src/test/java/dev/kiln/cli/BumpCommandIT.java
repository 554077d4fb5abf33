package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.KilnProject;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * `kiln bump` on real cases: a package whose new upstream tarball unpacks into a differently
 * named folder (the guard blocks it and names the moved paths), and its bad inputs, each
 * refused with nothing changed on disk or in Git.
 */
class BumpCommandIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path tmp;

    static KilnProject project;
    static Path upstream;

    /**
     * toolbox's upstream: 1.0 unpacks into toolbox/, 2.0 into toolbox-2.0/. The spec installs
     * whatever folder the tarball holds under /opt, so 2.0 silently moves every file.
     */
    @BeforeAll
    static void project() throws IOException {
        project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
        upstream = Files.createDirectories(tmp.resolve("upstream"));
        project.env("KILN_SOURCES_FOLDER", upstream.toString()); // file: sources come only from the host's sources.folder
        tarball("1.0", "toolbox");
        tarball("2.0", "toolbox-2.0");
        project.write("specs/toolbox/toolbox.spec", """
                Name:           toolbox
                Version:        1.0
                Release:        1%%{?dist}
                Summary:        A tool whose upstream changed its layout in 2.0
                License:        MIT
                BuildArch:      noarch
                Source0:        %s/toolbox-%%{version}.tar.gz
                
                %%description
                Test package for the release guard.
                
                %%prep
                %%setup -q -c
                
                %%install
                mkdir -p %%{buildroot}/opt
                cp -a * %%{buildroot}/opt/
                
                %%files
                /opt/*
                
                %%changelog
                * Mon Jan 05 2026 Pat Packager <pat@example.com> - 1.0-1
                - First package
                """.formatted(upstream.toUri().toString().replaceAll("/$", "")));
        project.write("specs/toolbox/sources", "SHA512 (toolbox-1.0.tar.gz) = "
                + dev.kiln.source.SourceCache.sha512(upstream.resolve("toolbox-1.0.tar.gz")) + "\n");
        project.commit("toolbox 1.0");
        KilnProject.Result first = project.run("build", "toolbox");
        assertThat(first.exitCode()).as(first.describe()).isZero();
    }

    private static void tarball(String version, String top) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("src-" + version).resolve(top));
        Files.createDirectories(dir.resolve("bin"));
        Files.createDirectories(dir.resolve("lib"));
        Files.writeString(dir.resolve("bin/toolbox"), "#!/bin/sh\necho toolbox " + version + "\n");
        Files.writeString(dir.resolve("lib/toolbox-core.jar"), "jar " + version + "\n");
        Files.writeString(dir.resolve("README"), "toolbox " + version + "\n");
        TestRpms.Run tar = TestRpms.run("tar", "-C", dir.getParent().toString(), "-czf",
                upstream.resolve("toolbox-" + version + ".tar.gz").toString(), top);
        assertThat(tar.exitCode()).as(tar.output()).isZero();
    }

    @Test
    void guardBlocksABumpWhoseFilesMovedAndNamesTheMoves() throws Exception {
        String refsBefore = project.refs();
        String repoBefore = KilnProject.treeDigest(project.root().resolve(".kiln/repo"));
        KilnProject.Result r = project.run("bump", "toolbox", "--to", "2.0", "--json");
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
        assertThat(r.stderr()).contains("release guard").contains("BLOCKED")
                .contains("/opt/toolbox/bin/toolbox -> /opt/toolbox-2.0/bin/toolbox")
                .contains("/opt/toolbox/lib/toolbox-core.jar -> /opt/toolbox-2.0/lib/toolbox-core.jar");
        assertThat(KilnProject.treeDigest(project.root().resolve(".kiln/repo")))
                .as("nothing published").isEqualTo(repoBefore);
        // The bump itself was committed on its branch; only the publish was refused.
        assertThat(project.branch()).isEqualTo("bump/toolbox-2.0");
        assertThat(project.refs()).isNotEqualTo(refsBefore);
        assertThat(project.read("specs/toolbox/toolbox.spec")).contains("Version:        2.0").contains("- Update to 2.0");
        assertThat(project.read("specs/toolbox/sources")).contains("toolbox-2.0.tar.gz").doesNotContain("toolbox-1.0.tar.gz");

        KilnProject.Result diff = project.run("diff", "toolbox");
        assertThat(diff.exitCode()).as(diff.describe()).isEqualTo(1);
        assertThat(diff.stdout()).contains("/opt/toolbox/bin/toolbox -> /opt/toolbox-2.0/bin/toolbox");

        KilnProject.Result accepted = project.run("build", "toolbox", "--accept-changes", "--json");
        assertThat(accepted.exitCode()).as(accepted.describe()).isZero();
        JsonNode record = JSON.readTree(Path.of(JSON.readTree(accepted.stdout()).get("builds").get(0).get("record").asString())
                .resolve("record.json").toFile());
        assertThat(record.get("guard").get("blocked").asBoolean()).isTrue();
        assertThat(record.get("guard").get("accepted").asBoolean()).isTrue();
        assertThat(project.run("repo", "list").stdout()).contains("toolbox-1.0-1.noarch").contains("toolbox-2.0-1.noarch");
        KilnProject.Result against = project.run("diff", "toolbox", "--against", "1.0-1");
        assertThat(against.exitCode()).as(against.describe()).isEqualTo(1);
        assertThat(against.stdout()).contains("toolbox-1.0-1.noarch -> toolbox-2.0-1.noarch").contains("/opt/toolbox/ -> /opt/toolbox-2.0/");
        assertThat(project.run("diff", "toolbox").stdout()).as("against the latest release, which is this build")
                .contains("release guard: passed");

        try (Git git = Git.open(project.root().toFile())) {
            git.checkout().setName("main").call();
        }
    }

    @Test
    void offlineBumpDropsTheStaleChecksumAndSaysWhatToAdd() throws Exception {
        KilnProject.Result r = project.run("bump", "toolbox", "--to", "3.0", "--no-fetch", "--json");
        try {
            assertThat(r.exitCode()).as(r.describe()).isZero();
            JsonNode doc = JSON.readTree(r.stdout());
            assertThat(doc.get("todo").get(0).asString()).startsWith("add 'SHA512 (toolbox-3.0.tar.gz) = <sha512>' to specs/toolbox/sources");
            assertThat(doc.get("build").isNull()).as("nothing to build without the source").isTrue();
            assertThat(project.read("specs/toolbox/sources")).doesNotContain("toolbox-1.0.tar.gz");
            assertThat(project.read("specs/toolbox/toolbox.spec")).contains("Version:        3.0");
            assertThat(project.branch()).isEqualTo("bump/toolbox-3.0");
        } finally {
            try (Git git = Git.open(project.root().toFile())) {
                git.checkout().setName("main").call();
                git.branchDelete().setBranchNames("bump/toolbox-3.0").setForce(true).call();
            }
        }
    }

    @Test
    void refusesBadInputChangingNothing() throws Exception {
        String refs = project.refs();
        String specs = KilnProject.treeDigest(project.root().resolve("specs"));
        String patches = KilnProject.treeDigest(project.root().resolve("patches"));
        expect(project.run("bump", "nosuch", "--to", "1.1"), "unknown package 'nosuch'");
        expect(project.run("bump", "hello", "--to", "1.1-2"), "--to '1.1-2' is not a valid RPM version");
        expect(project.run("bump", "hello", "--to", "1.0"), "--to 1.0 is the version specs/hello/hello.spec already has");
        expect(project.run("bump", "hello", "--to", "1.1", "--drop-patch", "nothere.patch"), "nothere.patch");
        expect(project.run("bump", "toolbox", "--to", "3.0"), "cannot fetch", "toolbox-3.0.tar.gz");
        expect(project.run("bump", "maven", "--to", "3.9.10"), "maven-enable-native-access.patch is already in apache-maven-3.9.10-bin.tar.gz",
                "--auto-drop");
        String patch = project.read("patches/maven/maven-log-timestamps.patch");
        project.write("patches/maven/maven-log-timestamps.patch", patch.replace(" org.slf4j.simpleLogger.showThreadName=false",
                " org.slf4j.simpleLogger.showThreadName=maybe"));
        project.commit("a patch that no longer applies");
        refs = project.refs();
        expect(project.run("bump", "maven", "--to", "3.9.10", "--auto-drop"),
                "patches/maven/maven-log-timestamps.patch no longer applies to apache-maven-3.9.10-bin.tar.gz", "FAILED");
        try (Git git = Git.open(project.root().toFile())) {
            git.branchCreate().setName("bump/hello-1.1").call();
        }
        refs = project.refs();
        expect(project.run("bump", "hello", "--to", "1.1"), "branch bump/hello-1.1 already exists");
        assertThat(project.refs()).isEqualTo(refs);
        assertThat(KilnProject.treeDigest(project.root().resolve("specs"))).isEqualTo(specs);
        assertThat(project.branch()).isEqualTo("main");
        project.write("patches/maven/maven-log-timestamps.patch", patch);
        project.commit("restore the patch");
    }

    private static void expect(KilnProject.Result r, String... fragments) {
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(2);
        String error = r.stderr().lines().filter(l -> l.startsWith("kiln: ")).reduce((a, b) -> b).orElse("");
        for (String f : fragments) {
            assertThat(error).as(r.describe()).contains(f);
        }
    }
}
