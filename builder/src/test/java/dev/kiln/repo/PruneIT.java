package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.config.TargetConfig;
import dev.kiln.repo.http.NginxDavAccess;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.SyntheticRpms;
import dev.kiln.rpm.TestRpms;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code repo prune} on a directory target and on a real nginx WebDAV target, read back by real
 * dnf and {@code repo verify}: the newest releases stay (by rpm's order, the latest always), the
 * removed ones leave the metadata with their source RPM and provenance, a second prune changes
 * nothing, and prunes killed with SIGKILL in a child JVM leave the old or the new repository, which
 * the next operation cleans up.
 */
class PruneIT {

    static final int KILLS = 3;

    @TempDir
    static Path dir;
    static SigningKey key;
    static RpmSigner signer;
    static Path rpms;
    static Path sourceRpm;
    static AutoCloseable nginx;

    @BeforeAll
    static void setUp() throws IOException {
        key = KeyGenerator.generate(dir.resolve("key.asc"), dir.resolve("key.pub"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
        signer = new RpmSigner(key);
        rpms = Files.createDirectories(dir.resolve("rpms"));
        for (String v : List.of("1.8", "1.9", "1.10", "1.11", "1.12", "1.13", "1.14", "1.15", "1.16", "1.17")) {
            SyntheticRpms.write(rpms, "synth", v, signer);
        }
        SyntheticRpms.write(rpms, "tool", "1.0~rc1", signer);
        SyntheticRpms.write(rpms, "tool", "1.0", signer);
        sourceRpm = TestRpms.source(Files.createDirectories(dir.resolve("srpm")), "synth", "1.8"); // what synth-1.8 names as its source
        if (NginxDavAccess.available()) {
            nginx = NginxDavAccess.start(dir.resolve("nginx"));
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (nginx != null) {
            nginx.close();
        }
    }

    static Path rpm(String name, String version) {
        return rpms.resolve(name + "-" + version + "-1.noarch.rpm");
    }

    static TargetConfig webdav(URI url, Duration grace) {
        return new TargetConfig("company", TargetConfig.Kind.WEBDAV, Optional.empty(), Optional.of(url), "", grace,
                Duration.ofSeconds(60), TargetConfig.DEFAULT_INDEX_TIMEOUT);
    }

    /** Runs {@code directory} and {@code webdav} at once (two cores; each is mostly a child JVM or dnf waiting). */
    private static void bothKinds(Kind directory, Kind webdav) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(nginx != null, "nginx with WebDAV is not installed");
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
            var d = pool.submit(() -> {
                directory.run();
                return null;
            });
            var w = pool.submit(() -> {
                webdav.run();
                return null;
            });
            d.get();
            w.get();
        }
    }

    @FunctionalInterface
    interface Kind {
        void run() throws Exception;
    }

    @Test
    void bothKindsKeepTheNewestRemoveTheRestWithTheirFilesAndASecondPruneChangesNothing() throws Exception {
        bothKinds(() -> {
            Path folder = dir.resolve("directory/repo");
            Pruning p = pruneFlow(TargetConfig.localDirectory(folder), folder.toUri(), folder, dir.resolve("cache-d"));
            // as on a server: within the grace the removed files stay for clients holding the replaced repomd.xml
            assertThat(p.files()).allSatisfy(f -> assertThat(folder.resolve(f)).exists());
            assertThat(Files.readString(folder.resolve(DirectoryRepository.REMOVED_FILE))).contains(p.files());
            byte[] repomd = Files.readAllBytes(folder.resolve("repodata/repomd.xml"));
            try (DirectoryRepository noGrace = new DirectoryRepository(folder, Duration.ZERO)) {
                assertThat(noGrace.prune(1, Pruning.Mode.APPLY, key).removed()).isEmpty();
                assertThat(p.files()).allSatisfy(f -> assertThat(folder.resolve(f)).doesNotExist());
                assertThat(Files.readString(folder.resolve(DirectoryRepository.REMOVED_FILE))).isEmpty();
            }
            assertThat(Files.readAllBytes(folder.resolve("repodata/repomd.xml"))).isEqualTo(repomd);
        }, () -> {
            URI url = NginxDavAccess.url(nginx);
            Path served = NginxDavAccess.repository(nginx);
            Pruning p = pruneFlow(webdav(url, TargetConfig.DEFAULT_GRACE), url, served, dir.resolve("cache-w"));
            // within the grace the removed files stay downloadable for clients holding the replaced repomd.xml, recorded for deletion
            assertThat(p.files()).allSatisfy(f -> assertThat(served.resolve(f)).exists());
            assertThat(Files.readString(served.resolve(".kiln/removed"))).contains(p.files());
            byte[] repomd = Files.readAllBytes(served.resolve("repodata/repomd.xml"));
            // past the grace (none here) the next operation deletes them, and only them
            try (PublishTarget noGrace = Targets.open(webdav(url, Duration.ZERO), Map.of(), dir.resolve("cache-w"))) {
                assertThat(noGrace.prune(1, Pruning.Mode.APPLY, key).removed()).isEmpty();
                assertThat(p.files()).allSatisfy(f -> assertThat(served.resolve(f)).doesNotExist());
                assertThat(served.resolve(".kiln/removed")).doesNotExist();
                assertThat(noGrace.verify(key).problems()).isEmpty();
            }
            assertThat(Files.readAllBytes(served.resolve("repodata/repomd.xml"))).isEqualTo(repomd);
        });
    }

    @Test
    void aPruneKilledAnywhereLeavesTheOldOrTheNewRepositoryAndTheNextOperationCleansUpOnBothKinds() throws Exception {
        bothKinds(() -> {
            Path folder = dir.resolve("killed/repo");
            killedPrunes("directory", folder.toString(), TargetConfig.localDirectory(folder), dir.resolve("cache-kd"));
            Path root = folder.toRealPath();
            try (Stream<Path> files = Files.walk(root)) {
                assertThat(files.map(Path::toString)).as("no half-written file or metadata folder")
                        .noneMatch(f -> f.endsWith(".part") || f.endsWith(".tmp"));
            }
            // nothing leaks: every package file is listed, or recorded for deletion after the grace
            Set<String> onDisk = new HashSet<>();
            try (Stream<Path> files = Files.list(root.resolve("Packages"))) {
                files.map(f -> "Packages/" + f.getFileName()).filter(f -> f.endsWith(".rpm")).forEach(onDisk::add);
            }
            try (PublishTarget target = Targets.open(TargetConfig.localDirectory(folder), Map.of(), dir.resolve("cache-kd"))) {
                target.list().forEach(n -> onDisk.remove("Packages/" + n.name() + "-" + n.version() + "-" + n.release() + "." + n.arch()
                        + ".rpm"));
            }
            String removed = Files.readString(root.resolve(DirectoryRepository.REMOVED_FILE));
            assertThat(onDisk).allSatisfy(f -> assertThat(removed).contains(" " + f + "\n"));
        }, () -> {
            URI url = NginxDavAccess.url(nginx).resolve("../killed/");
            Path served = Files.createDirectories(NginxDavAccess.repository(nginx).resolveSibling("killed"));
            killedPrunes("webdav", url.toString(), webdav(url, TargetConfig.DEFAULT_GRACE), dir.resolve("cache-kw"));
            try (Stream<Path> top = Files.list(served)) {
                assertThat(top.map(f -> f.getFileName().toString())).noneMatch(n -> n.startsWith("repodata.next-"));
            }
            assertThat(served.resolve(".kiln/pruning")).isEmptyDirectory();
            assertThat(served.resolve(".kiln/pending")).isEmptyDirectory();
            // nothing leaks: every package file on the server is listed, or recorded for deletion after the grace
            Set<String> onServer = new HashSet<>();
            try (Stream<Path> files = Files.list(served.resolve("Packages"))) {
                files.map(f -> "Packages/" + f.getFileName()).forEach(onServer::add);
            }
            try (PublishTarget target = Targets.open(webdav(url, TargetConfig.DEFAULT_GRACE), Map.of(), dir.resolve("cache-kw"))) {
                target.list().forEach(n -> onServer.remove("Packages/" + n.name() + "-" + n.version() + "-" + n.release() + "." + n.arch()
                        + ".rpm"));
            }
            assertThat(onServer).as("pruned files on the server").isNotEmpty();
            String removed = Files.readString(served.resolve(".kiln/removed"));
            assertThat(onServer).allSatisfy(f -> assertThat(removed).contains(" " + f + "\n"));
        });
    }

    /**
     * Publishes synth 1.8 (with its source RPM and provenance), 1.9, 1.10 and tool 1.0~rc1, 1.0, one
     * publish each; a dry run, then {@code prune --keep 1}, then the same again.
     */
    private static Pruning pruneFlow(TargetConfig config, URI dnfUrl, Path served, Path cache) throws IOException {
        try (PublishTarget target = Targets.open(config, Map.of(), cache)) {
            Path first = rpm("synth", "1.8");
            target.publish(List.of(first, sourceRpm), Map.of(first, "{\"predicate\":{}}".getBytes(StandardCharsets.UTF_8)), key);
            for (Path rpm : List.of(rpm("synth", "1.9"), rpm("synth", "1.10"), rpm("tool", "1.0~rc1"), rpm("tool", "1.0"))) {
                target.publish(List.of(rpm), Map.of(), key);
            }
            byte[] before = Files.readAllBytes(served.resolve("repodata/repomd.xml"));
            List<String> gone = List.of("synth-1.8-1.noarch", "synth-1.9-1.noarch", "tool-1.0~rc1-1.noarch");

            Pruning dry = target.prune(1, Pruning.Mode.DRY_RUN, null);
            assertThat(dry.removed()).extracting(Nevra::toString).containsExactlyElementsOf(gone);
            assertThat(dry.metadataChanged()).isFalse();
            assertThat(Files.readAllBytes(served.resolve("repodata/repomd.xml"))).as("a dry run changes nothing").isEqualTo(before);

            Pruning p = target.prune(1, Pruning.Mode.APPLY, key);
            assertThat(p.removed()).extracting(Nevra::toString).containsExactlyElementsOf(gone);
            assertThat(p.kept()).extracting(Nevra::toString).containsExactly("synth-1.10-1.noarch", "tool-1.0-1.noarch");
            assertThat(p.files()).isEqualTo(dry.files()).containsExactly("Packages/synth-1.8-1.noarch.rpm",
                    "Packages/synth-1.8-1.noarch.rpm.provenance.json", "Packages/synth-1.9-1.noarch.rpm",
                    "Packages/tool-1.0~rc1-1.noarch.rpm", "SRPMS/synth-1.8-1.src.rpm");
            assertThat(p.metadataChanged()).isTrue();
            assertThat(target.list()).extracting(Nevra::toString).containsExactly("synth-1.10-1.noarch", "tool-1.0-1.noarch");
            assertThat(target.verify(key).problems()).isEmpty();
            TestRpms.Run run = TestRpms.dnf(Files.createTempDirectory(dir, "root"), dnfUrl, "repoquery", "--qf", "%{name}-%{version}",
                    "synth", "tool");
            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(run.output().lines().filter(l -> l.matches("(synth|tool)-.*"))).containsExactly("synth-1.10", "tool-1.0");

            byte[] after = Files.readAllBytes(served.resolve("repodata/repomd.xml"));
            for (int keep : List.of(1, 50)) {
                Pruning again = target.prune(keep, Pruning.Mode.APPLY, key);
                assertThat(again.removed()).isEmpty();
                assertThat(again.metadataChanged()).isFalse();
                assertThat(Files.readAllBytes(served.resolve("repodata/repomd.xml"))).as("--keep " + keep + " again").isEqualTo(after);
            }
            return p;
        }
    }

    /**
     * Before each of {@value #KILLS} trials one more synth release is published (the next operation,
     * which cleans up what the kill left); then a child JVM prunes with {@code --keep 1} and is killed
     * with SIGKILL at a point spread over the time an unkilled prune took. After each kill the target
     * verifies and lists the old or the new packages.
     */
    private static void killedPrunes(String kind, String location, TargetConfig config, Path cache) throws Exception {
        int version = 11;
        try (PublishTarget target = Targets.open(config, Map.of(), cache)) {
            for (Path rpm : List.of(rpm("tool", "1.0"), rpm("synth", "1.10"), rpm("synth", "1." + version++))) {
                target.publish(List.of(rpm), Map.of(), key);
            }
        }
        long pruneMillis = Long.parseLong(runChild(kind, location, -1).substring("pruned ".length()));
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int trial = 0; trial < KILLS; trial++) {
            List<String> before;
            try (PublishTarget target = Targets.open(config, Map.of(), cache)) {
                target.publish(List.of(rpm("synth", "1." + version++)), Map.of(), key);
                before = target.list().stream().map(Nevra::toString).toList();
            }
            List<String> pruned = List.of("synth-1." + (version - 1) + "-1.noarch", "tool-1.0-1.noarch");
            String last = runChild(kind, location, pruneMillis * (2L * trial + 1) / (2L * KILLS));
            try (PublishTarget target = Targets.open(config, Map.of(), cache)) {
                assertThat(target.verify(key).problems()).as(kind + " trial " + trial).isEmpty();
                List<String> after = target.list().stream().map(Nevra::toString).toList();
                assertThat(after).as(kind + " trial " + trial + ": the old or the new packages").isIn(before, pruned);
                outcomes.merge(last != null ? "finished before the kill" : after.equals(before) ? "old state" : "new state", 1, Integer::sum);
            }
        }
        try (PublishTarget target = Targets.open(config, Map.of(), cache)) {
            target.prune(1, Pruning.Mode.APPLY, key);
            assertThat(target.list()).extracting(Nevra::toString).containsExactly("synth-1." + (version - 1) + "-1.noarch", "tool-1.0-1.noarch");
            assertThat(target.verify(key).problems()).isEmpty();
        }
        System.out.printf("%s: an unkilled prune in a fresh JVM took %d ms; %d kills: %s%n", kind, pruneMillis, KILLS, outcomes);
        assertThat(outcomes.getOrDefault("old state", 0)).as(kind + ": some kills landed before the prune went live").isPositive();
    }

    /**
     * Runs {@link PublishLoop} in prune mode; kills it {@code killAfterMillis} after it is ready
     * (never when negative). Returns its last line, or null when it was killed before finishing.
     */
    private static String runChild(String kind, String location, long killAfterMillis) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:+UseSerialGC", "-Xlog:disable", "-Xlog:all=error:stderr", "-cp", System.getProperty("java.class.path"),
                PublishLoop.class.getName(), kind, location, dir.resolve("child-cache-" + kind).toString(), dir.resolve("key.asc").toString(),
                rpms.toString(), "prune=1"));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
        assertThat(out.readLine()).as("the pruner started").isEqualTo("ready");
        // read as it comes: the kill closes the pipe
        java.util.concurrent.atomic.AtomicReference<String> finished = new java.util.concurrent.atomic.AtomicReference<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                for (String l; (l = out.readLine()) != null; ) {
                    finished.set(l);
                }
            } catch (IOException e) {
                // the pipe closed with the kill
            }
        });
        if (killAfterMillis >= 0) {
            Thread.sleep(killAfterMillis);
            child.destroyForcibly(); // SIGKILL
        }
        int exit = child.waitFor();
        reader.join();
        String last = finished.get();
        if (killAfterMillis < 0) {
            assertThat(exit).as("the unkilled pruner's exit").isZero();
            assertThat(last).startsWith("pruned ");
        }
        return last;
    }
}
