package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.KilnProject;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.repo.RepositoryServer;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.TestRpms;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The real case: maven 3.9.9 is released and installed with dnf; `kiln bump maven --to 3.9.10
 * --auto-drop` finds that the native-access patch is upstream in 3.9.10, drops it, keeps the
 * log patch, commits on a branch and builds. The guard reports the jars that were updated in
 * place (not blocking) and the three files upstream really removed (plexus-xml and its licence,
 * a Windows native library), which block; the engineer accepts them (--accept-changes, recorded
 * in the changelog and the build record), it is published, and dnf upgrades the installed package.
 */
class MavenBumpIT {

    @TempDir
    Path tmp;

    @Test
    void bumpsMavenDroppingTheMergedPatchAndDnfUpgradesIt() throws Exception {
        KilnProject project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
        KilnProject.Result first = project.run("build", "maven");
        assertThat(first.exitCode()).as(first.describe()).isZero();
        Path base = baseRepository(project);
        Path root = Files.createDirectories(tmp.resolve("installroot"));
        try (RepositoryServer kiln = RepositoryServer.start(project.repository(), "127.0.0.1", 0);
                RepositoryServer os = RepositoryServer.start(base, "127.0.0.1", 0)) {
            TestRpms.Run install = dnf(root, kiln, os, "install", "maven");
            assertThat(install.exitCode()).as(install.output()).isZero();
            assertThat(root.resolve("opt/maven/lib/maven-core-3.9.9.jar")).exists();

            String mainBefore = head(project, "main");
            KilnProject.Result bump = project.run("bump", "maven", "--to", "3.9.10", "--auto-drop", "--accept-changes", "--json");
            assertThat(bump.exitCode()).as(bump.describe()).isZero();
            JsonNode r = JsonMapper.builder().build().readTree(bump.stdout());
            assertThat(r.get("dropped").get(0).get("patch").asString()).isEqualTo("maven-enable-native-access.patch");
            assertThat(r.get("dropped").get(0).get("reason").asString()).isEqualTo("merged upstream");
            assertThat(r.get("kept").get(0).asString()).isEqualTo("maven-log-timestamps.patch");
            assertThat(r.get("branch").asString()).isEqualTo("bump/maven-3.9.10");
            assertThat(r.get("build").get(0).get("nevra").asString()).isEqualTo("maven-3.9.10-1.noarch");
            assertThat(bump.stderr()).contains("release guard: BLOCKED: 3 paths removed")
                    .contains("/opt/maven/lib/plexus-xml-3.0.1.jar")
                    .contains("/opt/maven/lib/maven-core-3.9.9.jar -> /opt/maven/lib/maven-core-3.9.10.jar")
                    .contains("release guard findings accepted (--accept-changes)");
            JsonNode record = JsonMapper.builder().build().readTree(
                    Path.of(r.get("build").get(0).get("record").asString()).resolve("record.json").toFile());
            assertThat(record.get("guard").get("accepted").asBoolean()).isTrue();
            assertThat(record.get("status").asString()).isEqualTo("published");

            assertThat(head(project, "main")).as("the current branch is not moved").isEqualTo(mainBefore);
            assertThat(project.root().resolve("patches/maven/maven-enable-native-access.patch")).doesNotExist();
            String spec = project.read("specs/maven/maven.spec");
            assertThat(spec).contains("Version:        3.9.10").contains("Release:        1%{?dist}")
                    .doesNotContain("Patch0:").doesNotContain("%patch -P 0").contains("Patch1:         maven-log-timestamps.patch")
                    .contains("Pat Packager <pat@example.com> - 3.9.10-1\n- Update to 3.9.10\n- Drop maven-enable-native-access.patch (merged upstream)\n"
                            + "- Release guard findings accepted for this update (--accept-changes)\n");
            assertThat(project.read("specs/maven/sources")).contains("apache-maven-3.9.10-bin.tar.gz").doesNotContain("3.9.9");
            try (Git git = Git.open(project.root().toFile())) {
                RevCommit c = git.log().setMaxCount(1).call().iterator().next();
                assertThat(c.getFullMessage()).startsWith("maven: update to 3.9.10").contains("maven-enable-native-access.patch (merged upstream)");
                assertThat(git.status().call().isClean()).isTrue();
            }

            TestRpms.Run upgrade = dnf(root, kiln, os, "upgrade", "maven");
            assertThat(upgrade.exitCode()).as(upgrade.output()).isZero();
            TestRpms.Run q = TestRpms.run("rpm", "--root", root.toString(), "-q", "maven");
            assertThat(q.output().strip()).isEqualTo("maven-3.9.10-1.noarch");
            assertThat(root.resolve("opt/maven/lib/maven-core-3.9.10.jar")).exists();
            assertThat(root.resolve("opt/maven/lib/maven-core-3.9.9.jar")).doesNotExist();
            assertThat(Files.readString(root.resolve("opt/maven/conf/logging/simplelogger.properties"))).contains("showDateTime=true");
        }
    }

    private static String head(KilnProject project, String branch) throws Exception {
        try (Git git = Git.open(project.root().toFile())) {
            return git.getRepository().resolve(branch).name();
        }
    }

    private static TestRpms.Run dnf(Path root, RepositoryServer kiln, RepositoryServer os, String... args) throws Exception {
        String k = kiln.uri().toString().replaceAll("/+$", "");
        String b = os.uri().toString().replaceAll("/+$", "");
        List<String> command = new ArrayList<>(List.of("dnf", "-y", "--installroot", root.toString(),
                "--setopt=reposdir=/dev/null", "--setopt=cachedir=" + root.resolve("var/cache/dnf"), "--setopt=metadata_expire=0",
                "--releasever=12", "--setopt=install_weak_deps=False",
                "--repofrompath=kiln," + k + "/", "--setopt=kiln.gpgcheck=1", "--setopt=kiln.repo_gpgcheck=1",
                "--setopt=kiln.gpgkey=" + k + "/RPM-GPG-KEY-kiln",
                "--repofrompath=base," + b + "/", "--setopt=base.gpgcheck=1", "--setopt=base.repo_gpgcheck=1",
                "--setopt=base.gpgkey=" + b + "/RPM-GPG-KEY-kiln"));
        command.addAll(List.of(args));
        return TestRpms.run(command);
    }

    /** A signed stand-in for the target host's base repository: provides /bin/sh. */
    static Path baseRepository(KilnProject project) throws Exception {
        Path top = Files.createTempDirectory("kiln-base");
        Path spec = top.resolve("base.spec");
        Files.writeString(spec, """
                Name: kiln-test-base
                Version: 1
                Release: 1
                Summary: Stands in for the target host's base system in tests
                License: MIT
                BuildArch: noarch
                Provides: /bin/sh
                %description
                Provides what a base system provides.
                %files
                """);
        TestRpms.Run build = TestRpms.run(List.of("rpmbuild", "-bb", "--define", "_topdir " + top,
                "--define", "_dbpath " + top.resolve("db"), spec.toString()));
        assertThat(build.exitCode()).as(build.output()).isZero();
        Path rpm;
        try (var files = Files.walk(top.resolve("RPMS"))) {
            rpm = files.filter(p -> p.toString().endsWith(".rpm")).findFirst().orElseThrow();
        }
        SigningKey key = SigningKey.load(project.root().resolve(".kiln/keys/signing-key.asc"), new char[0]);
        new RpmSigner(key).sign(rpm);
        Path repo = top.resolve("repo");
        new DirectoryRepository(repo).publish(List.of(rpm), key);
        return repo;
    }
}
