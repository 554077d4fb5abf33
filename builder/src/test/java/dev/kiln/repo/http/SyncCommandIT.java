package dev.kiln.repo.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Targets;
import dev.kiln.repo.repodata.Repodata;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.SyntheticRpms;
import dev.kiln.rpm.TestRpms;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./kiln repo sync} through the real launcher: a directory repository published by Kiln
 * replicated to two real nginx WebDAV servers (one behind a {@link FaultyProxy}) and a directory,
 * each then installed from by real dnf with both signature checks.
 */
class SyncCommandIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static SigningKey key;

    @BeforeAll
    static void key() {
        // sync signs nothing (it copies the source's signature): the key only publishes the source here
        key = KeyGenerator.generate(dir.resolve("key.asc"), dir.resolve("key.pub.asc"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
    }

    @Test
    void everySiteServesTheSourceByteForByteThroughFaultsASecondRunCopiesNothingAndADownSiteLeavesTheOthersSynced() throws Exception {
        assumeTrue(NginxDav.available(), "nginx with libnginx-mod-http-dav-ext is not installed (ci/test installs it)");
        Path projectDir = Files.createDirectories(dir.resolve("project"));
        Path origin = dir.resolve("origin");
        Path mirror = dir.resolve("mirror");
        try (NginxDav amsterdam = NginxDav.start(dir.resolve("amsterdam"), "");
                NginxDav sydney = NginxDav.start(dir.resolve("sydney"), "");
                NginxDav locked = NginxDav.startWithPassword(dir.resolve("locked"), "publisher", "s3cret-pass");
                FaultyProxy proxy = new FaultyProxy(sydney.url())) {
            KilnProject project = KilnProject.settingsOnly(projectDir, "targets:\n" + directory("origin", origin)
                    + webdav("amsterdam", amsterdam.url()) + webdav("sydney", proxy.url()) + directory("mirror", mirror)
                    + webdav("down", java.net.URI.create("http://127.0.0.1:9/repo/")) + webdav("locked", locked.url())
                    + directory("slow", dir.resolve("slow")) + directory("copy", dir.resolve("copy")) + """
                      - name: manager
                        kind: nexus
                        url: http://127.0.0.1:9/repository/rpms/
                    """);

            RpmSigner signer = new RpmSigner(key);
            Path rpms = Files.createDirectories(dir.resolve("rpms"));
            Path vendor = TestRpms.binary(rpms, "vendor-tool", "4.2", "w19.zstdio");
            signer.sign(vendor);
            Path source = TestRpms.source(rpms, "vendor-tool", "4.2");
            Path tool = SyntheticRpms.write(rpms, "tool", "1.0", signer);
            byte[] provenance = "{\"_type\":\"https://in-toto.io/Statement/v1\"}".getBytes(StandardCharsets.UTF_8);
            try (PublishTarget target = publishTo(origin)) {
                target.publish(List.of(vendor, source, tool), Map.of(vendor, provenance), key);
            }
            byte[] firstRepomd = Files.readAllBytes(origin.resolve("repodata/repomd.xml"));

            // one planned fault each for the first package uploads to Sydney: a 503, a stall past the timeout, a dropped connection
            proxy.plan("PUT", p -> p.contains("/Packages/"), FaultyProxy.Fault.UNAVAILABLE, FaultyProxy.Fault.STALL, FaultyProxy.Fault.DROP);
            KilnProject.Result first = project.run("repo", "sync", "--from", "origin", "--to", "amsterdam", "--to", "sydney", "--to",
                    "mirror", "--jobs", "4", "--timeout", "2", "--max-rate", "64M", "--json");
            assertThat(first.exitCode()).as(first.describe()).isZero();
            JsonNode firstDoc = JSON.readTree(first.stdout());
            for (JsonNode t : firstDoc.get("targets")) {
                assertThat(t.get("ok").asBoolean()).as(first.describe()).isTrue();
                // vendor-tool, tool, the provenance, the source RPM, 4 documents, the signature and repomd.xml
                assertThat(t.get("copied").asInt()).as(t.toString()).isEqualTo(10);
                assertThat(t.get("metadataChanged").asBoolean()).isTrue();
            }
            assertThat(proxy.hits(FaultyProxy.Fault.UNAVAILABLE)).isEqualTo(1);
            assertThat(proxy.hits(FaultyProxy.Fault.STALL)).isEqualTo(1);
            assertThat(proxy.hits(FaultyProxy.Fault.DROP)).isEqualTo(1);

            String provenanceName = "Packages/" + vendor.getFileName() + ".provenance.json";
            for (Path replica : List.of(amsterdam.repository(), sydney.repository(), mirror)) {
                assertThat(replica.resolve("repodata/repomd.xml")).as(replica + " repomd.xml").hasSameBinaryContentAs(origin.resolve("repodata/repomd.xml"));
                assertThat(replica.resolve("repodata/repomd.xml.asc")).hasSameBinaryContentAs(origin.resolve("repodata/repomd.xml.asc"));
                assertThat(replica.resolve(provenanceName)).hasBinaryContent(provenance);
                assertThat(replica.resolve("SRPMS/" + source.getFileName())).hasSameBinaryContentAs(source);
            }
            for (java.net.URI site : List.of(amsterdam.url(), sydney.url(), mirror.toUri())) {
                TestRpms.Run install = TestRpms.dnf(Files.createTempDirectory(dir, "root"), site, "install", "vendor-tool");
                assertThat(install.exitCode()).as(site + "\n" + install.output()).isZero();
            }

            KilnProject.Result again = project.run("repo", "sync", "--from", "origin", "--to", "amsterdam", "--to", "sydney", "--to",
                    "mirror", "--json");
            assertThat(again.exitCode()).as(again.describe()).isZero();
            for (JsonNode t : JSON.readTree(again.stdout()).get("targets")) {
                assertThat(t.get("compared").asInt()).as(t.toString()).isEqualTo(10);
                assertThat(t.get("copied").asInt()).as(t.toString()).isZero();
                assertThat(t.get("bytes").asLong()).isZero();
                assertThat(t.get("metadataChanged").asBoolean()).isFalse();
            }
            KilnProject.Result text = project.run("repo", "sync", "--from", "origin", "--to", "mirror");
            assertThat(text.stdout()).contains("Target mirror already matches origin: 10 file(s) compared, 0 copied (0 bytes)");

            try (PublishTarget target = publishTo(origin)) {
                target.publish(List.of(SyntheticRpms.write(rpms, "tool", "1.1", signer)), Map.of(), key);
            }
            // Sydney answers 503 to every attempt at the new package: it fails, and stays as it was
            FaultyProxy.Fault[] always = new FaultyProxy.Fault[8];
            java.util.Arrays.fill(always, FaultyProxy.Fault.UNAVAILABLE);
            proxy.plan("PUT", p -> p.contains("/Packages/"), always);
            KilnProject.Result down = project.run("repo", "sync", "--from", "origin", "--to", "down", "--to", "locked", "--to", "sydney",
                    "--to", "amsterdam");
            assertThat(down.exitCode()).as(down.describe()).isEqualTo(3);
            assertThat(down.stderr()).contains("target down (http://127.0.0.1:9/repo/) cannot be reached")
                    .contains("target locked refused").contains("401 Unauthorized")
                    .containsPattern("copying Packages/tool-1\\.1[^ ]*\\.rpm to target sydney failed: target sydney .* answered 503");
            assertThat(proxy.hits(FaultyProxy.Fault.UNAVAILABLE)).isEqualTo(1 + 5);
            assertThat(sydney.repository().resolve("repodata/repomd.xml")).hasBinaryContent(firstRepomd);
            assertThat(down.stdout()).contains("Synced target amsterdam from origin");
            assertThat(amsterdam.repository().resolve("repodata/repomd.xml")).hasSameBinaryContentAs(origin.resolve("repodata/repomd.xml"));
            assertThat(locked.repository().resolve("repodata")).doesNotExist();
            // the replaced metadata stays for the grace, as after a publish
            for (Repodata.Entry e : Repodata.entries(firstRepomd).values()) {
                assertThat(amsterdam.repository().resolve(e.href())).as(e.href()).exists();
            }
            TestRpms.Run upgraded = TestRpms.dnf(Files.createTempDirectory(dir, "root"), amsterdam.url(), "install", "tool-1.1");
            assertThat(upgraded.exitCode()).as(upgraded.output()).isZero();

            // a WebDAV site as the source, read over HTTP
            KilnProject.Result fromDav = project.run("repo", "sync", "--from", "amsterdam", "--to", "copy");
            assertThat(fromDav.exitCode()).as(fromDav.describe()).isZero();
            assertThat(dir.resolve("copy/repodata/repomd.xml")).hasSameBinaryContentAs(origin.resolve("repodata/repomd.xml"));
            assertThat(dir.resolve("copy/SRPMS/" + source.getFileName())).hasSameBinaryContentAs(source);

            KilnProject.Result rate = project.run("repo", "sync", "--from", "origin", "--to", "slow", "--max-rate", "fast");
            assertThat(rate.exitCode()).as(rate.describe()).isEqualTo(2);
            assertThat(rate.stderr()).contains("--max-rate 'fast' is not a transfer rate");
            KilnProject.Result unknown = project.run("repo", "sync", "--from", "origin", "--to", "nowhere");
            assertThat(unknown.exitCode()).as(unknown.describe()).isEqualTo(2);
            assertThat(unknown.stderr()).contains("repo sync: --to 'nowhere' is not a target of kiln.yaml: known are [origin, ");
            KilnProject.Result manager = project.run("repo", "sync", "--from", "origin", "--to", "manager");
            assertThat(manager.exitCode()).as(manager.describe()).isEqualTo(2);
            assertThat(manager.stderr()).contains("target manager (nexus http://127.0.0.1:9/repository/rpms/) is a repository manager")
                    .contains("./kiln repo publish --target manager");
        }
    }

    @Test
    void maxRateCapsTheBytesPerSecondOfAllTransfers() throws Exception {
        Path projectDir = Files.createDirectories(dir.resolve("rate-project"));
        Path origin = dir.resolve("rate-origin");
        KilnProject project = KilnProject.settingsOnly(projectDir, "targets:\n" + directory("origin", origin)
                + directory("slow", dir.resolve("rate-slow")) + directory("fast", dir.resolve("rate-fast")));
        // 2 MiB that no compression shrinks in one package, and 600 KiB more over three (several transfers at once): one rpmbuild
        StringBuilder spec = new StringBuilder("""
                Name: blob
                Version: 1.0
                Release: 1
                Summary: Random bytes
                License: MIT
                BuildArch: noarch
                %description
                Random bytes.
                %files
                /usr/share/blob/data
                """);
        StringBuilder install = new StringBuilder("%install\nmkdir -p %{buildroot}/usr/share/blob\n"
                + "head -c 2097152 /dev/urandom > %{buildroot}/usr/share/blob/data\n");
        for (int i = 1; i <= 3; i++) {
            spec.append("""
                    %%package part%1$d
                    Summary: More random bytes
                    %%description part%1$d
                    More random bytes.
                    %%files part%1$d
                    /usr/share/blob/part%1$d
                    """.formatted(i));
            install.append("head -c 204800 /dev/urandom > %{buildroot}/usr/share/blob/part" + i + "\n");
        }
        List<Path> rpms = TestRpms.binaries(dir, spec.append(install).toString());
        assertThat(rpms).hasSize(4);
        RpmSigner signer = new RpmSigner(key);
        for (Path rpm : rpms) {
            signer.sign(rpm);
        }
        try (PublishTarget target = publishTo(origin)) {
            target.publish(rpms, Map.of(), key);
        }
        long cap = 1 << 20;
        KilnProject.Result slow = project.run("repo", "sync", "--from", "origin", "--to", "slow", "--max-rate", "1M", "--json");
        assertThat(slow.exitCode()).as(slow.describe()).isZero();
        JsonNode capped = JSON.readTree(slow.stdout()).get("targets").get(0);
        long bytes = capped.get("bytes").asLong();
        assertThat(bytes).isGreaterThan(2L << 20);
        double cappedRate = bytes / (capped.get("millis").asLong() / 1000.0);
        assertThat(cappedRate).as("bytes per second with --max-rate 1M: %s", capped).isLessThan(cap);

        KilnProject.Result fast = project.run("repo", "sync", "--from", "origin", "--to", "fast", "--json");
        assertThat(fast.exitCode()).as(fast.describe()).isZero();
        JsonNode free = JSON.readTree(fast.stdout()).get("targets").get(0);
        double freeRate = free.get("bytes").asLong() / (Math.max(1, free.get("millis").asLong()) / 1000.0);
        assertThat(freeRate).as("the same copy without a cap is measurably faster: %s", free).isGreaterThan(2.0 * cap);
        assertThat(dir.resolve("rate-slow/repodata/repomd.xml")).hasSameBinaryContentAs(origin.resolve("repodata/repomd.xml"));
    }

    private static String directory(String name, Path path) {
        return "  - name: " + name + "\n    kind: directory\n    path: " + path + "\n";
    }

    private static String webdav(String name, java.net.URI url) {
        return "  - name: " + name + "\n    kind: webdav\n    url: " + url + "\n";
    }

    private static PublishTarget publishTo(Path path) {
        return Targets.open(new TargetConfig("origin", TargetConfig.Kind.DIRECTORY, Optional.of(path), Optional.empty(), "",
                TargetConfig.DEFAULT_GRACE, TargetConfig.DEFAULT_LOCK_TIMEOUT, TargetConfig.DEFAULT_INDEX_TIMEOUT), Map.of(), dir.resolve("cache"));
    }
}
