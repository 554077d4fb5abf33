package dev.kiln.repo.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.TestRpms;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./kiln repo publish} and {@code ./kiln build --target} through the real launcher, to a
 * WebDAV target on a real nginx, installed from with real dnf.
 */
class PublishCommandIT {

    @TempDir
    static Path dir;

    @BeforeAll
    static void needsNginx() {
        assumeTrue(NginxDav.available(), "nginx with libnginx-mod-http-dav-ext is not installed (ci/test installs it)");
    }

    @Test
    void publishesAVendorRpmOnlyWhenSignedByTheCompanyKeyOrWithSign() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx"), "")) {
            KilnProject project = KilnProject.create(Files.createDirectories(dir.resolve("project")));
            project.write("kiln.yaml", Files.readString(project.root().resolve("kiln.yaml")) + """
                    targets:
                      - name: company
                        kind: webdav
                        url: %s
                      - name: local
                        kind: directory
                        path: .kiln/repo
                    """.formatted(nginx.url()));
            Path vendor = TestRpms.binary(Files.createDirectories(dir.resolve("vendor")), "vendor-tool", "4.2", "w19.zstdio");
            Path foreignKey = dir.resolve("foreign.asc");
            new RpmSigner(KeyGenerator.generate(foreignKey, dir.resolve("foreign.pub"), "Vendor <v@example.com>", "pw".toCharArray()))
                    .sign(Files.copy(vendor, dir.resolve("vendor-signed.rpm")));

            KilnProject.Result unsigned = project.run("repo", "publish", vendor.toString());
            assertThat(unsigned.exitCode()).as(unsigned.describe()).isEqualTo(2);
            assertThat(unsigned.stderr()).contains("is not signed: pass --sign to publish a copy signed with the company key");
            KilnProject.Result foreign = project.run("repo", "publish", "--target", "company", dir.resolve("vendor-signed.rpm").toString());
            assertThat(foreign.exitCode()).as(foreign.describe()).isEqualTo(2);
            assertThat(foreign.stderr()).containsPattern("signed by key [0-9A-F]{16}, not by the company key [0-9A-F]{16}");
            assertThat(nginx.repository().resolve("repodata")).doesNotExist();

            byte[] before = Files.readAllBytes(vendor);
            KilnProject.Result signed = project.run("repo", "publish", "--sign", "--json", vendor.toString());
            assertThat(signed.exitCode()).as(signed.describe()).isZero();
            JsonNode doc = new ObjectMapper().readTree(signed.stdout());
            assertThat(doc.get("target").asText()).isEqualTo("company");
            assertThat(doc.get("signed").get(0).asText()).isEqualTo("vendor-tool-4.2-1.noarch.rpm");
            assertThat(doc.get("added").get(0).asText()).isEqualTo("vendor-tool-4.2-1.noarch.rpm");
            assertThat(Files.readAllBytes(vendor)).as("the given file is never changed").isEqualTo(before);

            Path root = Files.createTempDirectory(dir, "root");
            TestRpms.Run install = TestRpms.dnf(root, nginx.url(), "install", "vendor-tool");
            assertThat(install.exitCode()).as(install.output()).isZero();

            KilnProject.Result list = project.run("repo", "list", "--target", "company", "--json");
            assertThat(list.exitCode()).as(list.describe()).isZero();
            assertThat(new ObjectMapper().readTree(list.stdout()).get("packages").get(0).asText()).isEqualTo("vendor-tool-4.2-1.noarch");
            KilnProject.Result unknown = project.run("repo", "list", "--target", "nope");
            assertThat(unknown.exitCode()).isEqualTo(2);
            assertThat(unknown.stderr()).contains("--target 'nope' is not a target of kiln.yaml: known are [company, local]");
            KilnProject.Result serve = project.run("repo", "serve", "--target", "company");
            assertThat(serve.exitCode()).as(serve.describe()).isEqualTo(2);
            assertThat(serve.stderr()).contains("repo serve: target company (webdav " + nginx.url()).contains("is served by its own server");
        }
    }

    @Test
    void aBuildShipsToTheTargetAndAnUnreachableTargetStopsItBeforeAnyWork() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-build"), "")) {
            KilnProject project = KilnProject.create(Files.createDirectories(dir.resolve("build-project")));
            String base = Files.readString(project.root().resolve("kiln.yaml"));
            project.write("kiln.yaml", base + """
                    targets:
                      - name: company
                        kind: webdav
                        url: %s
                      - name: down
                        kind: webdav
                        url: http://127.0.0.1:9/repo/
                    """.formatted(nginx.url()));
            project.commit("targets");

            KilnProject.Result down = project.run(List.of("build", "hello", "--target", "down"), Map.of());
            assertThat(down.exitCode()).as(down.describe()).isEqualTo(3);
            assertThat(down.stderr()).contains("target down (http://127.0.0.1:9/repo/) cannot be reached");
            assertThat(down.stderr()).doesNotContain("Start: rpmbuild");
            assertThat(project.repository()).doesNotExist();

            KilnProject.Result built = project.run("build", "hello");
            assertThat(built.exitCode()).as(built.describe()).isZero();
            assertThat(built.stderr()).contains("Start: publish to target company");
            Path root = Files.createTempDirectory(dir, "root");
            // hello needs /bin/sh, which an empty root lacks: dnf reads the signed metadata and lists it
            TestRpms.Run query = TestRpms.dnf(root, nginx.url(), "repoquery", "--qf", "%{name}-%{version}-%{release}", "hello");
            assertThat(query.exitCode()).as(query.output()).isZero();
            assertThat(query.output()).contains("hello-1.0-1");
            try (var files = Files.list(nginx.repository().resolve("Packages"))) {
                assertThat(files.map(p -> p.getFileName().toString()))
                        .anyMatch(n -> n.startsWith("hello-") && n.endsWith(".rpm.provenance.json"));
            }
            try (var files = Files.list(nginx.repository().resolve("SRPMS"))) {
                assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.endsWith(".src.rpm"));
            }

            // Another machine with the same checkout and nothing of its own published (the project's folder gone):
            // the build reads the target's release, with its build key, and has nothing to redo. Without it, it would
            // rebuild hello-1.0-1 with other bytes, which the target refuses as a changed release.
            byte[] repomd = Files.readAllBytes(nginx.repository().resolve("repodata/repomd.xml"));
            try (var all = Files.walk(project.repository())) {
                for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
            KilnProject.Result again = project.run("build", "hello");
            assertThat(again.exitCode()).as(again.describe()).isZero();
            assertThat(again.stderr()).contains("Finish: read the releases on target company (1 package(s) new to");
            assertThat(again.stdout()).contains("Up to date hello-1.0-1");
            assertThat(again.stderr()).doesNotContain("Start: rpmbuild");
            assertThat(Files.readAllBytes(nginx.repository().resolve("repodata/repomd.xml"))).as("the target is untouched").isEqualTo(repomd);
            try (dev.kiln.repo.DirectoryRepository local = new dev.kiln.repo.DirectoryRepository(project.repository())) {
                assertThat(local.list()).extracting(dev.kiln.rpm.Nevra::toString).singleElement().asString().startsWith("hello-1.0-1");
            }
        }
    }
}
