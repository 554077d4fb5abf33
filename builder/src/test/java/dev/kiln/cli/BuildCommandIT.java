package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.KilnProject;
import dev.kiln.rpm.TestRpms;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The main flow, end to end with real parts: `kiln build hello` in a real container, the
 * signature checked by real rpmkeys, the repository served by `kiln repo serve` and the package
 * installed by real dnf with gpgcheck and repo_gpgcheck on.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class BuildCommandIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path tmp;

    static KilnProject project;

    @BeforeAll
    static void project() throws IOException {
        project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void buildsSignsPublishesAndDnfInstallsHello() throws Exception {
        KilnProject.Result r = project.run("build", "hello", "--json");
        assertThat(r.exitCode()).as(r.describe()).isZero();
        JsonNode build = JSON.readTree(r.stdout()).get("builds").get(0);
        String head;
        try (Git git = Git.open(project.root().toFile())) {
            head = git.getRepository().resolve("HEAD").name();
        }
        assertThat(build.get("package").asString()).isEqualTo("hello");
        assertThat(build.get("nevra").asString()).isEqualTo("hello-1.0-1.noarch");
        assertThat(build.get("commit").asString()).isEqualTo(head);
        assertThat(build.get("dirty").asBoolean()).isFalse();
        assertThat(build.get("imageDigest").asString()).matches("sha256:[0-9a-f]{64}");
        assertThat(build.get("signingKey").asString()).matches("[0-9A-F]{16}");
        assertThat(build.get("durationMillis").asLong()).isPositive();
        assertThat(build.get("published").asBoolean()).isTrue();
        assertThat(build.get("install").asString()).contains("repo_gpgcheck=1").endsWith(" hello");
        Path rpm = Path.of(build.get("rpms").get(0).asString());
        assertThat(rpm).isRegularFile();
        assertThat(r.stderr()).as("progress and live log").contains("Start: rpmbuild").contains("Executing(%prep)");

        // The key was created on first use (this is the project's first build), and said so.
        assertThat(r.stderr()).contains("created a development signing key " + build.get("signingKey").asString());

        // Real rpmkeys verifies the header signature; a tampered copy fails.
        Path db = Files.createDirectories(tmp.resolve("rpmdb"));
        Path key = project.repository().resolve("RPM-GPG-KEY-kiln");
        assertThat(TestRpms.run("rpmkeys", "--dbpath", db.toString(), "--import", key.toString()).exitCode()).isZero();
        TestRpms.Run check = checksig(db, rpm);
        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.output()).contains("Header V4 RSA/SHA256 Signature, key ID "
                + build.get("signingKey").asString().substring(8).toLowerCase() + ": OK");
        Path tampered = tmp.resolve("tampered.rpm");
        byte[] bytes = Files.readAllBytes(rpm);
        bytes[bytes.length - 100] ^= 0x55;
        Files.write(tampered, bytes);
        assertThat(checksig(db, tampered).exitCode()).isNotZero();

        // The build record: log, resolved inputs, output checksums.
        Path record = Path.of(build.get("record").asString());
        assertThat(record.resolve("build.log")).content().contains("Start: rpmbuild").contains("Wrote: ");
        JsonNode rec = JSON.readTree(record.resolve("record.json").toFile());
        assertThat(rec.get("status").asString()).isEqualTo("published");
        assertThat(rec.get("git").get("commit").asString()).isEqualTo(head);
        assertThat(rec.get("image").get("id").asString()).isEqualTo(build.get("imageDigest").asString());
        assertThat(rec.get("outputs").get("rpms/" + rpm.getFileName()).asString()).isEqualTo(sha256(rpm));

        installWithDnf();
    }

    private void installWithDnf() throws Exception {
        // dnf resolves hello's auto-generated Requires: /bin/sh; a target host has that from its base
        // repository, so the test serves a minimal one beside Kiln's.
        Path base = MavenBumpIT.baseRepository(project);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process serve = project.start(List.of("repo", "serve", "--port", Integer.toString(port)), Map.of());
        try (var baseServer = dev.kiln.repo.RepositoryServer.start(base, "127.0.0.1", 0)) {
            BufferedReader out = new BufferedReader(new InputStreamReader(serve.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            assertThat(first).startsWith("Serving ").contains("http://127.0.0.1:" + port);
            String url = "http://127.0.0.1:" + port;
            String baseUrl = baseServer.uri().toString().replaceAll("/+$", "");
            Path root = Files.createDirectories(tmp.resolve("installroot"));
            TestRpms.Run dnf = TestRpms.run(List.of("dnf", "-y", "--installroot", root.toString(),
                    "--setopt=reposdir=/dev/null", "--setopt=cachedir=" + root.resolve("var/cache/dnf"),
                    "--releasever=12", "--setopt=install_weak_deps=False",
                    "--repofrompath=kiln," + url + "/", "--setopt=kiln.gpgcheck=1", "--setopt=kiln.repo_gpgcheck=1",
                    "--setopt=kiln.gpgkey=" + url + "/RPM-GPG-KEY-kiln",
                    "--repofrompath=base," + baseUrl + "/", "--setopt=base.gpgcheck=1",
                    "--setopt=base.repo_gpgcheck=1", "--setopt=base.gpgkey=" + baseUrl + "/RPM-GPG-KEY-kiln",
                    "install", "hello"));
            assertThat(dnf.exitCode()).as(dnf.output()).isZero();
            assertThat(root.resolve("etc/hello.conf")).content().contains("Example Corp");
            TestRpms.Run hello = TestRpms.run(List.of("env", "GREETING_CONF=" + root.resolve("etc/hello.conf"),
                    "sh", root.resolve("usr/bin/hello").toString(), "Kiln"));
            assertThat(hello.output().strip()).isEqualTo("Hello from Example Corp, Kiln!");
        } finally {
            serve.destroy();
            serve.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void buildsTheCommittedRevisionNotTheWorkingTree() throws Exception {
        String spec = project.read("specs/hello/hello.spec");
        try {
            project.write("specs/hello/hello.spec", spec.replace("Release:        1%{?dist}", "Release:        7%{?dist}"));
            KilnProject.Result committed = project.run("build", "hello", "--rev", "HEAD", "--no-publish", "--force", "--json");
            assertThat(committed.exitCode()).as(committed.describe()).isZero();
            JsonNode c = JSON.readTree(committed.stdout()).get("builds").get(0);
            assertThat(c.get("nevra").asString()).isEqualTo("hello-1.0-1.noarch");
            assertThat(c.get("dirty").asBoolean()).isFalse();
            assertThat(c.get("published").asBoolean()).isFalse();

            KilnProject.Result working = project.run("--json", "hello", "--no-publish", "build");
            assertThat(working.exitCode()).as("arguments in any order are not a command").isEqualTo(2);
            working = project.run("build", "--json", "--no-publish", "hello");
            assertThat(working.exitCode()).as(working.describe()).isZero();
            JsonNode w = JSON.readTree(working.stdout()).get("builds").get(0);
            assertThat(w.get("nevra").asString()).isEqualTo("hello-1.0-7.noarch");
            assertThat(w.get("dirty").asBoolean()).isTrue();
        } finally {
            project.write("specs/hello/hello.spec", spec);
        }
    }

    private static TestRpms.Run checksig(Path db, Path rpm) throws IOException {
        return TestRpms.run("rpmkeys", "--dbpath", db.toString(), "--checksig", "-v",
                "--define", "_pkgverify_level signature", rpm.toString());
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
