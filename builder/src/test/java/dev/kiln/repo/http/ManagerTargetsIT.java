package dev.kiln.repo.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import dev.kiln.Sha256;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.Publication;
import dev.kiln.repo.Pruning;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Targets;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.SyntheticRpms;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Nexus and Artifactory targets against {@link ManagerServer}, a recording server that answers
 * as those products document (neither can run here), whose metadata is made by the real
 * createrepo_c; then real dnf installs what was published.
 */
class ManagerTargetsIT {

    @TempDir
    static Path dir;
    static SigningKey key;
    static RpmSigner signer;
    static final Map<String, String> CREDENTIALS = Map.of("KILN_TARGET_MANAGER_USERNAME", "deployer",
            "KILN_TARGET_MANAGER_PASSWORD", "pa55-word");

    @BeforeAll
    static void setUp() {
        key = KeyGenerator.generate(dir.resolve("key.asc"), dir.resolve("key.pub"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
        signer = new RpmSigner(key);
    }

    static PublishTarget target(ManagerServer server, Duration indexTimeout) {
        TargetConfig config = new TargetConfig("manager", server.product == ManagerServer.Product.NEXUS
                ? TargetConfig.Kind.NEXUS : TargetConfig.Kind.ARTIFACTORY, Optional.empty(), Optional.of(server.url()),
                server.product == ManagerServer.Product.NEXUS ? "" : "rpm-local", TargetConfig.DEFAULT_GRACE,
                TargetConfig.DEFAULT_LOCK_TIMEOUT, indexTimeout);
        return Targets.open(config, CREDENTIALS, dir.resolve("cache-" + server.product));
    }

    @Test
    void nexusPublishReturnsOnlyOnceItsOwnMetadataListsThePackage() throws Exception {
        try (ManagerServer nexus = ManagerServer.start(ManagerServer.Product.NEXUS, dir.resolve("nexus"), "deployer", "pa55-word")) {
            Path rpm = SyntheticRpms.write(dir.resolve("n"), "nexus-pkg", "1.0", signer);
            PublishTarget target = target(nexus, Duration.ofSeconds(30));
            long started = System.nanoTime();
            Publication p = target.publish(List.of(rpm), Map.of(), key);
            long millis = (System.nanoTime() - started) / 1_000_000;
            System.out.println("nexus: publish returned after " + millis + " ms (the server rebuilds metadata 1500 ms after an upload)");
            assertThat(millis).as("waited for the server's metadata").isGreaterThanOrEqualTo(1500);
            assertThat(p.added()).containsExactly("nexus-pkg-1.0-1.noarch.rpm");
            assertThat(target.list()).extracting(Object::toString).containsExactly("nexus-pkg-1.0-1.noarch");
            assertThat(nexus.requests("PUT")).singleElement().satisfies(r -> {
                assertThat(r.path()).isEqualTo("/repository/rpm-hosted/Packages/nexus-pkg-1.0-1.noarch.rpm");
                assertThat(r.headers().get("authorization")).startsWith("Basic ");
                assertThat(r.status()).isEqualTo(201);
            });
            assertThat(dnfInstall(nexus.servedUrl(), "nexus-pkg")).isZero();
            assertThat(target.verify(key).problems()).isEmpty();

            // the same bytes again: nothing uploaded; other bytes under the same NEVRA: refused before any upload
            assertThat(target.publish(List.of(rpm), Map.of(), key).metadataChanged()).isFalse();
            Path rebuilt = SyntheticRpms.write(dir.resolve("n2"), "nexus-pkg", "1.0", new RpmSigner(key));
            assertThat(Files.mismatch(rebuilt, rpm)).isNotEqualTo(-1);
            assertThatThrownBy(() -> target.publish(List.of(rebuilt), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                    .hasMessageContaining("already published on target manager with different content");
            assertThat(nexus.requests("PUT")).hasSize(1);
        }
    }

    @Test
    void nexusThatNeverListsTheUploadIsAClearErrorAfterTheIndexTimeout() throws Exception {
        try (ManagerServer nexus = ManagerServer.start(ManagerServer.Product.NEXUS, dir.resolve("nexus-stuck"), "deployer", "pa55-word")) {
            nexus.indexDelayMillis = -1;
            Path rpm = SyntheticRpms.write(dir.resolve("stuck"), "stuck-pkg", "1.0", signer);
            assertThatThrownBy(() -> target(nexus, Duration.ofSeconds(2)).publish(List.of(rpm), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("took the upload but its metadata does not list [stuck-pkg-1.0-1.noarch] after 2 s")
                    .message().doesNotContain("pa55-word");
        }
    }

    @Test
    void artifactoryDeploysByChecksumFirstThenWithItsChecksumAndHasTheMetadataComputed() throws Exception {
        try (ManagerServer art = ManagerServer.start(ManagerServer.Product.ARTIFACTORY, dir.resolve("artifactory"), "deployer", "pa55-word")) {
            Path known = SyntheticRpms.write(dir.resolve("a1"), "known-pkg", "1.0", signer);
            Path fresh = SyntheticRpms.write(dir.resolve("a2"), "fresh-pkg", "2.0", signer);
            art.seed(Files.readAllBytes(known)); // Artifactory holds these bytes already (another repository)
            PublishTarget target = target(art, Duration.ofSeconds(10));
            Publication p = target.publish(List.of(known, fresh), Map.of(), key);
            assertThat(p.added()).containsExactly("known-pkg-1.0-1.noarch.rpm", "fresh-pkg-2.0-1.noarch.rpm");

            List<ManagerServer.Request> puts = art.requests("PUT");
            assertThat(puts).extracting(r -> r.path() + " " + r.headers().getOrDefault("x-checksum-deploy", "bytes") + " " + r.status())
                    .containsExactly(
                            "/artifactory/rpm-local/Packages/known-pkg-1.0-1.noarch.rpm true 201",
                            "/artifactory/rpm-local/Packages/fresh-pkg-2.0-1.noarch.rpm true 404",
                            "/artifactory/rpm-local/Packages/fresh-pkg-2.0-1.noarch.rpm bytes 201");
            assertThat(puts.get(2).headers().get("x-checksum-sha256")).isEqualTo(Sha256.hex(fresh));
            List<ManagerServer.Request> posts = art.requests("POST");
            assertThat(posts).singleElement().satisfies(r -> assertThat(r.path()).isEqualTo("/artifactory/api/yum/rpm-local?async=0"));
            synchronized (art.requests) {
                assertThat(art.requests.indexOf(posts.getFirst())).as("metadata asked for after the uploads")
                        .isGreaterThan(art.requests.indexOf(puts.get(2)));
            }
            assertThat(target.list()).extracting(Object::toString).containsExactly("fresh-pkg-2.0-1.noarch", "known-pkg-1.0-1.noarch");
            assertThat(dnfInstall(art.servedUrl(), "fresh-pkg")).isZero();
        }
    }

    @Test
    void pruneDeletesTheOldReleasesPathsOnBothProductsAndReturnsOnceTheirMetadataNoLongerListsThem() throws Exception {
        for (ManagerServer.Product product : ManagerServer.Product.values()) {
            try (ManagerServer server = ManagerServer.start(product, dir.resolve("prune-" + product), "deployer", "pa55-word")) {
                server.indexDelayMillis = 300;
                PublishTarget target = target(server, Duration.ofSeconds(30));
                Path folder = dir.resolve("prune-rpms-" + product);
                Path old = SyntheticRpms.write(folder, "pruned-pkg", "1.9", signer);
                target.publish(List.of(old), Map.of(old, "{\"predicate\":{}}".getBytes(java.nio.charset.StandardCharsets.UTF_8)), key);
                target.publish(List.of(SyntheticRpms.write(folder, "pruned-pkg", "1.10", signer)), Map.of(), key);
                int before = server.requests.size();

                Pruning dry = target.prune(1, Pruning.Mode.DRY_RUN, null);
                assertThat(dry.removed()).extracting(Object::toString).containsExactly("pruned-pkg-1.9-1.noarch");
                assertThat(server.requests("DELETE")).as("a dry run deletes nothing").isEmpty();

                Pruning p = target.prune(1, Pruning.Mode.APPLY, key);
                assertThat(p.kept()).extracting(Object::toString).containsExactly("pruned-pkg-1.10-1.noarch");
                assertThat(p.files()).containsExactly("Packages/pruned-pkg-1.9-1.noarch.rpm", "Packages/pruned-pkg-1.9-1.noarch.rpm.provenance.json");
                String root = product == ManagerServer.Product.NEXUS ? "/repository/rpm-hosted/" : "/artifactory/rpm-local/";
                assertThat(server.requests("DELETE")).extracting(r -> r.path() + " " + r.status() + " " + r.headers().containsKey("authorization"))
                        .containsExactly(root + "Packages/pruned-pkg-1.9-1.noarch.rpm 204 true",
                                root + "Packages/pruned-pkg-1.9-1.noarch.rpm.provenance.json 204 true");
                if (product == ManagerServer.Product.ARTIFACTORY) {
                    synchronized (server.requests) {
                        List<ManagerServer.Request> since = server.requests.subList(before, server.requests.size());
                        assertThat(since.stream().map(r -> r.method()).filter(m -> !m.equals("GET") && !m.equals("HEAD")))
                                .as("the metadata is asked for after the deletions").containsExactly("DELETE", "DELETE", "POST");
                    }
                }
                // returned only once the manager's own metadata no longer lists it: list() reads that metadata
                assertThat(target.list()).extracting(Object::toString).containsExactly("pruned-pkg-1.10-1.noarch");
                assertThat(target.verify(key).problems()).isEmpty();
                assertThat(target.prune(1, Pruning.Mode.APPLY, key).metadataChanged()).as("a second prune").isFalse();
                assertThat(server.requests("DELETE")).hasSize(2);
            }
        }
    }

    @Test
    void aManagerThatKeepsListingAPrunedPackageIsAClearErrorAfterTheIndexTimeout() throws Exception {
        try (ManagerServer nexus = ManagerServer.start(ManagerServer.Product.NEXUS, dir.resolve("nexus-prune-stuck"), "deployer", "pa55-word")) {
            nexus.indexDelayMillis = 200;
            PublishTarget target = target(nexus, Duration.ofSeconds(2));
            Path folder = dir.resolve("prune-stuck");
            target.publish(List.of(SyntheticRpms.write(folder, "kept-pkg", "1.0", signer)), Map.of(), key);
            target.publish(List.of(SyntheticRpms.write(folder, "kept-pkg", "2.0", signer)), Map.of(), key);
            nexus.indexDelayMillis = -1; // a manager whose rebuild never comes
            assertThatThrownBy(() -> target.prune(1, Pruning.Mode.APPLY, key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("deleted the files but its metadata still lists [kept-pkg-1.0-1.noarch] after 2 s");
        }
    }

    @Test
    void wrongCredentialsAreNamedAs401WithoutTheSecret() throws Exception {
        try (ManagerServer art = ManagerServer.start(ManagerServer.Product.ARTIFACTORY, dir.resolve("art-auth"), "deployer", "other")) {
            Path rpm = SyntheticRpms.write(dir.resolve("auth"), "auth-pkg", "1.0", signer);
            assertThatThrownBy(() -> target(art, Duration.ofSeconds(5)).publish(List.of(rpm), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("401 Unauthorized for the credentials from KILN_TARGET_MANAGER_USERNAME")
                    .message().doesNotContain("pa55-word");
        }
    }

    /** Real dnf, package signatures checked; the metadata is the manager's own (unsigned here). */
    private static int dnfInstall(URI url, String name) throws IOException {
        Path root = Files.createTempDirectory(dir, "root");
        TestRpms.Run run = TestRpms.run("dnf", "-y", "--installroot", root.toString(), "--setopt=reposdir=/dev/null",
                "--setopt=cachedir=" + root.resolve("cache"), "--releasever=12", "--repofrompath=m," + url, "--repo=m",
                "--setopt=m.gpgcheck=1", "--setopt=m.repo_gpgcheck=0", "--setopt=m.gpgkey=" + dir.resolve("key.pub").toUri(),
                "install", name);
        assertThat(run.exitCode()).as(run.output()).isZero();
        return run.exitCode();
    }
}
