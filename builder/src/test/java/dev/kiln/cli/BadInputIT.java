package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.KilnProject;
import dev.kiln.container.BuildContainer;
import dev.kiln.container.DockerEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each class of bad input gets one clear line naming the file, line or value, the documented
 * exit code, no change to the repository, and no container left behind. The project has a
 * published hello before each test, so "unchanged" is checked against a real repository.
 */
class BadInputIT {

    @TempDir
    static Path tmp;

    static KilnProject project;
    static DockerEngine engine;

    private String repositoryBefore;
    private String treeBefore;

    @BeforeAll
    static void project() throws IOException {
        project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
        KilnProject.Result first = project.run("build", "hello");
        assertThat(first.exitCode()).as(first.describe()).isZero();
        engine = DockerEngine.connect(project.root().resolve(".kiln"), s -> { });
    }

    @BeforeEach
    void remember() {
        repositoryBefore = KilnProject.treeDigest(project.repository());
        treeBefore = KilnProject.treeDigest(project.root().resolve("specs"));
    }

    @AfterEach
    void nothingChangedAndNoContainerLeft() {
        assertThat(KilnProject.treeDigest(project.repository()))
                .as("repository unchanged").isEqualTo(repositoryBefore);
        assertThat(engine.client().listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec())
                .as("no build container left behind").isEmpty();
    }

    private static void restore(String path, String content) {
        project.write(path, content);
    }

    private static KilnProject.Result expect(int code, KilnProject.Result r, String... fragments) {
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(code);
        String error = r.stderr().lines().filter(l -> l.startsWith("kiln: ")).reduce((a, b) -> b).orElse("");
        for (String fragment : fragments) {
            assertThat(error).as(r.describe()).contains(fragment);
        }
        return r;
    }

    @Test
    void unknownPackage() {
        expect(2, project.run("build", "nosuch"), "unknown package 'nosuch'", "specs/nosuch/", "greeter, greeter-motd, hello, libgreet, maven");
    }

    @Test
    void specMissing() {
        project.write("specs/empty/README", "no spec here\n");
        try {
            expect(2, project.run("build", "empty"), "specs/empty/empty.spec is missing");
        } finally {
            KilnProject.deleteTree(project.root().resolve("specs/empty"));
        }
    }

    @Test
    void specWithUnclosedConditionalNamesItsLine() {
        String spec = project.read("specs/hello/hello.spec");
        try {
            project.write("specs/hello/hello.spec", spec.replace("BuildArch:      noarch", "BuildArch:      noarch\n%if 0%{?rhel}"));
            expect(2, project.run("build", "hello"), "specs/hello/hello.spec:7: rpm in builder rpm-builder cannot read this spec: Unclosed %if");
        } finally {
            restore("specs/hello/hello.spec", spec);
        }
    }

    @Test
    void specThatRpmCannotParseNamesFileAndLine() {
        String spec = project.read("specs/hello/hello.spec");
        try {
            project.write("specs/hello/hello.spec", spec.replace("License:        MIT", "License:        MIT\nFrobnicate:     yes"));
            expect(2, project.run("build", "hello"), "specs/hello/hello.spec:6: rpm in builder rpm-builder cannot read this spec: Unknown tag: Frobnicate");
        } finally {
            restore("specs/hello/hello.spec", spec);
        }
    }

    @Test
    void patchFileMissing() {
        String spec = project.read("specs/hello/hello.spec");
        try {
            project.write("specs/hello/hello.spec", spec.replace("Patch0:", "Patch1:         not-there.patch\nPatch0:"));
            expect(2, project.run("build", "hello"), "specs/hello/hello.spec:12: Patch1 names not-there.patch",
                    "not in patches/hello/");
        } finally {
            restore("specs/hello/hello.spec", spec);
        }
    }

    @Test
    void patchThatDoesNotApplyShowsTheRejectedHunk() {
        String patch = project.read("patches/hello/hello-read-company-config.patch");
        try {
            project.write("patches/hello/hello-read-company-config.patch",
                    patch.replace(" # hello: prints a greeting.", " # hello: prints a salutation."));
            KilnProject.Result r = expect(2, project.run("build", "hello"),
                    "patches/hello/hello-read-company-config.patch (Patch0) does not apply", "hunk #1 FAILED");
            assertThat(r.stderr()).contains("kiln: rejected hunk").contains("+# Company change: the greeting comes from");
        } finally {
            restore("patches/hello/hello-read-company-config.patch", patch);
        }
    }

    @Test
    void buildRequiresTheImageDoesNotProvideIsRefusedBeforeAnyContainer() {
        String spec = project.read("specs/hello/hello.spec");
        try {
            project.write("specs/hello/hello.spec", spec.replace("BuildRequires:  patch", "BuildRequires:  patch\nBuildRequires:  gcc >= 12"));
            KilnProject.Result r = expect(2, project.run("build", "hello"), "specs/hello/hello.spec:16: BuildRequires gcc >= 12",
                    "nobody provides it (not builder image rpm-builder, not a package in specs/)");
            assertThat(r.stderr()).doesNotContain("Start: rpmbuild");
        } finally {
            restore("specs/hello/hello.spec", spec);
        }
    }

    @Test
    void sourceChecksumMismatchShowsBothChecksums() throws IOException {
        // file: sources come only from the host's sources.folder
        Path folder = Files.createDirectories(tmp.resolve("upstream"));
        Path upstream = Files.writeString(folder.resolve("fetched-1.0.tar.gz"), "not what was recorded");
        String expected = "ab".repeat(64);
        project.write("specs/fetched/fetched.spec", """
                Name: fetched
                Version: 1.0
                Release: 1
                Summary: Remote source test
                License: MIT
                BuildArch: noarch
                Source0: %s
                %%description
                Test.
                %%files
                """.formatted(upstream.toUri()));
        project.write("specs/fetched/sources", "SHA512 (fetched-1.0.tar.gz) = " + expected + "\n");
        try {
            expect(2, project.run(List.of("build", "fetched"), Map.of("KILN_SOURCES_FOLDER", folder.toString())),
                    "checksum mismatch for fetched-1.0.tar.gz", expected,
                    dev.kiln.source.SourceCache.sha512(upstream));
            assertThat(project.root().resolve(".kiln/cache/sha512/" + expected)).doesNotExist();
        } finally {
            KilnProject.deleteTree(project.root().resolve("specs/fetched"));
        }
    }

    @Test
    void unpinnedBaseImageIsRefused() {
        project.write("containers/unpinned/Dockerfile", "FROM debian:bookworm\nRUN true\n");
        project.write("containers/unpinned/provides", "bash\n");
        try {
            expect(2, project.run("image", "build", "unpinned"), "containers/unpinned/Dockerfile line 1",
                    "FROM debian:bookworm is not pinned");
            expect(2, project.run("build", "hello", "--builder", "unpinned"), "builder unpinned is not pinned",
                    "./kiln image build unpinned");
        } finally {
            KilnProject.deleteTree(project.root().resolve("containers/unpinned"));
        }
    }

    @Test
    void imageThatDiffersFromTheLockIsRefusedWithTheRepinCommand() {
        String lock = project.read("containers/rpm-builder/image.lock");
        try {
            project.write("containers/rpm-builder/image.lock", lock
                    .replaceAll("image: sha256:[0-9a-f]{64}", "image: sha256:" + "1".repeat(64))
                    .replaceAll("toolchain: sha256:[0-9a-f]{64}", "toolchain: sha256:" + "2".repeat(64)));
            expect(2, project.run("build", "hello"), "image.lock pins sha256:" + "1".repeat(64),
                    "run ./kiln image build rpm-builder");
        } finally {
            restore("containers/rpm-builder/image.lock", lock);
        }
    }

    @Test
    void unreachableEngineIsAnEnvironmentErrorWithTheCommandToRun() {
        expect(3, project.run(List.of("build", "hello"), Map.of("DOCKER_HOST", "unix:///tmp/kiln-no-engine.sock")),
                "No Docker engine at unix:///tmp/kiln-no-engine.sock", "dockerd");
    }

    @Test
    void missingSigningKeyIsAnEnvironmentError() {
        expect(3, project.run(List.of("build", "hello"), Map.of("KILN_SIGNING_KEY", tmp.resolve("no/key.asc").toString())),
                "no signing key at " + tmp.resolve("no/key.asc"), "./kiln key generate");
    }

    @Test
    void wrongPassphraseIsRefused() {
        Path key = tmp.resolve("protected/key.asc");
        Map<String, String> right = Map.of("KILN_SIGNING_KEY", key.toString(), "KILN_SIGNING_PASSPHRASE", "correct horse");
        KilnProject.Result gen = project.run(List.of("key", "generate"), right);
        assertThat(gen.exitCode()).as(gen.describe()).isZero();
        expect(2, project.run(List.of("build", "hello"), Map.of("KILN_SIGNING_KEY", key.toString(),
                "KILN_SIGNING_PASSPHRASE", "wrong")), "wrong passphrase for signing key " + key);
    }

    @Test
    void repositoryFolderNotWritable() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        expect(2, project.run(List.of("build", "hello"), Map.of("KILN_REPOSITORY", file.resolve("repo").toString())),
                "repository folder " + file.resolve("repo") + " is not writable");
    }

    @Test
    void timedOutBuildIsRemoved() {
        project.write("specs/slow/slow.spec", """
                Name: slow
                Version: 1.0
                Release: 1
                Summary: Sleeps in %%build
                License: MIT
                BuildArch: noarch
                %description
                Test.
                %build
                sleep 300
                %files
                """.replace("%%", "%"));
        try {
            KilnProject.Result r = expect(1, project.run("build", "slow", "--build.timeout", "4s"), "timed out");
            assertThat(r.stderr()).contains("Start: rpmbuild");
        } finally {
            KilnProject.deleteTree(project.root().resolve("specs/slow"));
        }
    }

    @Test
    void interruptedBuildLeavesNoContainer() throws Exception {
        project.write("specs/slow/slow.spec", """
                Name: slow
                Version: 1.0
                Release: 1
                Summary: Sleeps in %build
                License: MIT
                BuildArch: noarch
                %description
                Test.
                %build
                echo sleeping now
                sleep 300
                %files
                """);
        try {
            Process p = project.start(List.of("build", "slow"), Map.of());
            var err = new java.io.BufferedReader(new java.io.InputStreamReader(p.getErrorStream()));
            String line;
            while ((line = err.readLine()) != null && !line.contains("sleeping now")) {
                // wait until the container runs the build
            }
            assertThat(line).as("the build started").isNotNull();
            assertThat(engine.client().listContainersCmd().withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec())
                    .as("the build container runs").hasSize(1);
            p.destroy(); // SIGTERM, like Ctrl-C: the shutdown hook removes the container
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            KilnProject.deleteTree(project.root().resolve("specs/slow"));
        }
    }

}
