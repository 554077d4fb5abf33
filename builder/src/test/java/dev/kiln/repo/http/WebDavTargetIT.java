package dev.kiln.repo.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.KilnException;
import dev.kiln.Sha256;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.repo.Publication;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Targets;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The WebDAV target against a real nginx with its WebDAV modules on loopback, read back by real dnf. */
class WebDavTargetIT {

    @TempDir
    static Path dir;
    static SigningKey key;
    static List<Path> rpms = new ArrayList<>();

    @BeforeAll
    static void setUp() throws IOException {
        assumeTrue(NginxDav.available(), "nginx with libnginx-mod-http-dav-ext is not installed (ci/test installs it)");
        key = KeyGenerator.generate(dir.resolve("key.sec.asc"), dir.resolve("key.pub.asc"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
        for (int i = 0; i < 12; i++) {
            Path rpm = TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-dav", "1." + i, "w19.zstdio");
            new RpmSigner(key).sign(rpm);
            rpms.add(rpm);
        }
    }

    static TargetConfig target(URI url) {
        return target(url, TargetConfig.DEFAULT_GRACE);
    }

    static TargetConfig target(URI url, Duration grace) {
        return new TargetConfig("company", TargetConfig.Kind.WEBDAV, Optional.empty(), Optional.of(url), "",
                grace, Duration.ofSeconds(60), TargetConfig.DEFAULT_INDEX_TIMEOUT);
    }

    static PublishTarget open(URI url, Map<String, String> env, Path cache) {
        return Targets.open(target(url), env, cache);
    }

    @Test
    void dnfInstallsWhatWasPublishedWithBothSignatureChecksAndANoOpPublishChangesNoByte() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-install"), "")) {
            PublishTarget target = open(nginx.url(), Map.of(), dir.resolve("cache-install"));
            Publication first = target.publish(List.of(rpms.get(0), rpms.get(1)), Map.of(), key);
            assertThat(first.added()).containsExactly("kiln-dav-1.0-1.noarch.rpm", "kiln-dav-1.1-1.noarch.rpm");
            assertThat(first.metadataChanged()).isTrue();

            Path root = Files.createTempDirectory(dir, "root");
            TestRpms.Run run = TestRpms.dnf(root, nginx.url(), "install", "kiln-dav");
            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(root.resolve("usr/share/kiln-dav/1.1.txt")).exists();

            Path repomd = nginx.repository().resolve("repodata/repomd.xml");
            byte[] before = Files.readAllBytes(repomd);
            String tree = treeDigest(nginx.repository());
            Publication again = target.publish(List.of(rpms.get(0), rpms.get(1)), Map.of(), key);
            assertThat(again.metadataChanged()).isFalse();
            assertThat(again.unchanged()).hasSize(2);
            assertThat(treeDigest(nginx.repository())).as("nothing on the server changed").isEqualTo(tree);

            // a second machine (empty cache) adds one: it downloads the documents once and appends
            PublishTarget other = open(nginx.url(), Map.of(), dir.resolve("cache-install-2"));
            other.publish(List.of(rpms.get(2)), Map.of(), key);
            assertThat(Files.readAllBytes(repomd)).isNotEqualTo(before);
            assertThat(target.list()).extracting(Object::toString)
                    .containsExactly("kiln-dav-1.0-1.noarch", "kiln-dav-1.1-1.noarch", "kiln-dav-1.2-1.noarch");
            // the files of the replaced repomd.xml are still served (grace), beside the new ones
            for (String href : dev.kiln.repo.RetainedMetadata.locations(before)) {
                assertThat(nginx.repository().resolve(href)).as(href).exists();
            }
            TestRpms.Run upgrade = TestRpms.dnf(root, nginx.url(), "--refresh", "upgrade", "kiln-dav");
            assertThat(upgrade.exitCode()).as(upgrade.output()).isZero();
            assertThat(root.resolve("usr/share/kiln-dav/1.2.txt")).exists();
            // nothing a publish uses in passing is left behind
            assertThat(nginx.repository().resolve(".kiln/pending")).isEmptyDirectory();
            assertThat(nginx.repository().resolve(".kiln/lock")).doesNotExist();
            try (Stream<Path> top = Files.list(nginx.repository())) {
                assertThat(top.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(
                        ".kiln", "Packages", "SRPMS", "repodata", "RPM-GPG-KEY-kiln");
            }
        }
    }

    @Test
    void aReleaseIsImmutableAndARefusedPublishWritesNothing() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-immutable"), "")) {
            PublishTarget target = open(nginx.url(), Map.of(), dir.resolve("cache-immutable"));
            target.publish(List.of(rpms.get(0)), Map.of(), key);
            String before = treeDigest(nginx.repository());
            Path rebuilt = TestRpms.binary(Files.createTempDirectory(dir, "rebuilt"), "kiln-dav", "1.0", "w19.zstdio");
            new RpmSigner(key).sign(rebuilt);
            assertThat(Files.mismatch(rebuilt, rpms.get(0))).isNotEqualTo(-1);

            assertThatThrownBy(() -> target.publish(List.of(rpms.get(3), rebuilt), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                    .hasMessageContaining("kiln-dav-1.0-1.noarch.rpm is already published on target company with different content");
            assertThat(treeDigest(nginx.repository())).isEqualTo(before);
        }
    }

    @Test
    void wrongOrMissingCredentialsAre401AndAReadOnlyAccountIs403NamedAsSuchWithExit3() throws Exception {
        try (NginxDav nginx = NginxDav.startWithPassword(dir.resolve("nginx-auth"), "publisher", "s3cret-pass")) {
            assertThatThrownBy(() -> open(nginx.url(), Map.of(), dir.resolve("cache-auth")).publish(List.of(rpms.get(0)), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("401 Unauthorized").hasMessageContaining("no credentials were sent")
                    .hasMessageContaining("KILN_TARGET_COMPANY_USERNAME");
            Map<String, String> wrong = Map.of("KILN_TARGET_COMPANY_USERNAME", "publisher", "KILN_TARGET_COMPANY_PASSWORD", "guess");
            assertThatThrownBy(() -> open(nginx.url(), wrong, dir.resolve("cache-auth")).publish(List.of(rpms.get(0)), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("401 Unauthorized for the credentials from KILN_TARGET_COMPANY_USERNAME")
                    .message().doesNotContain("guess");
            assertThat(Files.exists(nginx.repository().resolve("Packages"))).isFalse();

            Path netrc = dir.resolve("netrc");
            Files.writeString(netrc, "machine 127.0.0.1 login publisher password s3cret-pass\n");
            Publication ok = open(nginx.url(), Map.of("NETRC", netrc.toString()), dir.resolve("cache-auth"))
                    .publish(List.of(rpms.get(0)), Map.of(), key);
            assertThat(ok.added()).containsExactly("kiln-dav-1.0-1.noarch.rpm");
        }
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-readonly"), "limit_except GET HEAD PROPFIND { deny all; }")) {
            assertThatThrownBy(() -> open(nginx.url(), Map.of(), dir.resolve("cache-ro")).publish(List.of(rpms.get(0)), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("403 Forbidden").hasMessageContaining("give that account write access");
            // the check a build makes before any work finds it too, though reading is allowed
            assertThatThrownBy(() -> open(nginx.url(), Map.of(), dir.resolve("cache-ro")).check())
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("403 Forbidden").hasMessageContaining("give that account write access");
        }
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-checked"), "")) {
            open(nginx.url(), Map.of(), dir.resolve("cache-checked")).check();
            try (Stream<Path> left = Files.walk(nginx.repository())) {
                assertThat(left.filter(Files::isRegularFile)).as("the write probe leaves nothing").isEmpty();
            }
        }
    }

    @Test
    void anUnreachableTargetIsExit3AfterRetriesWithNothingWritten() throws Exception {
        int port;
        try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        long started = System.nanoTime();
        assertThatThrownBy(() -> open(URI.create("http://127.0.0.1:" + port + "/repo/"), Map.of(), dir.resolve("cache-down"))
                .publish(List.of(rpms.get(0)), Map.of(), key))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                .hasMessageContaining("cannot be reached").hasMessageContaining(WebDav.ATTEMPTS + " attempts");
        System.out.println("unreachable target reported after " + (System.nanoTime() - started) / 1_000_000 + " ms");
    }

    /** Three publishers at once, 50 rounds, on each kind: after every round the metadata lists every package published so far. */
    @Test
    void concurrentPublishersLoseNoPackageOverFiftyRounds() throws Exception {
        int rounds = 50;
        int publishers = 3;
        Path synthetic = dir.resolve("concurrent-rpms");
        RpmSigner signer = new RpmSigner(key);
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < rounds * publishers; i++) {
            files.add(dev.kiln.rpm.SyntheticRpms.write(synthetic, "concurrent", "1." + i, signer));
        }
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-concurrent"), "")) {
            Path folder = dir.resolve("concurrent-dir/repo");
            for (String kind : List.of("webdav", "directory")) {
                java.util.function.IntFunction<PublishTarget> make = p -> kind.equals("webdav")
                        // each its own cache, as on its own machine
                        ? Targets.open(target(nginx.url(), dev.kiln.repo.PublishLoop.BURST_GRACE), Map.of(), dir.resolve("cache-concurrent-" + p))
                        : Targets.open(TargetConfig.localDirectory(folder), Map.of(), dir.resolve("cache-concurrent-d"));
                List<PublishTarget> targets = java.util.stream.IntStream.range(0, publishers).mapToObj(make).toList();
                PublishTarget checker = make.apply(publishers);
                long started = System.nanoTime();
                try (ExecutorService pool = Executors.newFixedThreadPool(publishers)) {
                    for (int r = 0; r < rounds; r++) {
                        int round = r;
                        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(publishers);
                        List<Future<?>> futures = new ArrayList<>();
                        for (int p = 0; p < publishers; p++) {
                            int publisher = p;
                            futures.add(pool.submit(() -> {
                                start.await();
                                targets.get(publisher).publish(List.of(files.get(round * publishers + publisher)), Map.of(), key);
                                return null;
                            }));
                        }
                        for (Future<?> f : futures) {
                            f.get();
                        }
                        assertThat(checker.list()).as(kind + " after round " + round).hasSize((round + 1) * publishers);
                    }
                }
                System.out.printf("%s: %d publishers x %d rounds in %.1f s, none lost%n", kind, publishers, rounds,
                        (System.nanoTime() - started) / 1e9);
                assertThat(checker.verify(key).problems()).isEmpty();
            }
            Path root = Files.createTempDirectory(dir, "root");
            TestRpms.Run run = TestRpms.dnf(root, nginx.url(), "install", "concurrent-1.149");
            assertThat(run.exitCode()).as(run.output()).isZero();
        }
    }

    @Test
    void aPublishThatWaitsTooLongForTheLockNamesItsHolder() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-held"), "")) {
            Files.createDirectories(nginx.repository().resolve(".kiln"));
            // held by a live process (pid 1) of another machine, not expired
            Files.writeString(nginx.repository().resolve(".kiln/lock"),
                    "id=other\nhost=build-07.example.com\npid=1\nsince=2026-12-02T04:00:00Z\nexpires=2099-01-01T00:00:00Z\n");
            TargetConfig config = new TargetConfig("company", TargetConfig.Kind.WEBDAV, Optional.empty(), Optional.of(nginx.url()), "",
                    TargetConfig.DEFAULT_GRACE, Duration.ofSeconds(1), TargetConfig.DEFAULT_INDEX_TIMEOUT);
            assertThatThrownBy(() -> Targets.open(config, Map.of(), dir.resolve("cache-held")).publish(List.of(rpms.get(0)), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("target company is being published by another Kiln (host build-07.example.com, pid 1, "
                            + "since 2026-12-02T04:00:00Z); waited 1 s");
        }
        // the directory kind: another process holds the repository's lock (a POSIX lock, as Java's)
        Path folder = dir.resolve("held-dir/repo");
        TargetConfig briefWait = new TargetConfig("local", TargetConfig.Kind.DIRECTORY, Optional.of(folder), Optional.empty(), "",
                TargetConfig.DEFAULT_GRACE, Duration.ofSeconds(1), TargetConfig.DEFAULT_INDEX_TIMEOUT);
        Targets.open(briefWait, Map.of(), dir.resolve("cache-held")).publish(List.of(rpms.get(0)), Map.of(), key);
        Path lockFolder = folder;
        Process other = new ProcessBuilder("python3", "-c", """
                import fcntl, os, sys, time
                f = open(sys.argv[1] + "/.lock", "a")
                fcntl.lockf(f, fcntl.LOCK_EX)
                open(sys.argv[1] + "/.lock-holder", "w").write("host elsewhere, pid %d, since 2026-12-02T05:00:00Z" % os.getpid())
                print("held", flush=True)
                time.sleep(30)
                """, lockFolder.toString()).start();
        try {
            assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(other.getInputStream())).readLine()).isEqualTo("held");
            assertThatThrownBy(() -> Targets.open(briefWait, Map.of(), dir.resolve("cache-held")).publish(List.of(rpms.get(1)), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("is being published by another Kiln (host elsewhere, pid " + other.pid()
                            + ", since 2026-12-02T05:00:00Z); waited 1 s");
        } finally {
            other.destroyForcibly().waitFor();
        }
        // its death released the lock (the OS drops it): the next publish goes through
        Targets.open(briefWait, Map.of(), dir.resolve("cache-held")).publish(List.of(rpms.get(1)), Map.of(), key);
    }

    @Test
    void theNextPublishRemovesWhatAKilledOneLeftAndTheRepositoryStaysReadable() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-leftovers"), "")) {
            Path cache = dir.resolve("cache-leftovers");
            PublishTarget target = open(nginx.url(), Map.of(), cache);
            target.publish(List.of(rpms.get(0)), Map.of(), key);
            // What a publisher killed after uploading and before the swap leaves: its journal, its
            // package (uploaded, not indexed), a half-uploaded temporary file, its staging collection, its lock.
            Path repo = nginx.repository();
            Files.writeString(repo.resolve(".kiln/pending/dead-publish"), "Packages/kiln-dav-1.5-1.noarch.rpm");
            Files.copy(rpms.get(5), repo.resolve("Packages/kiln-dav-1.5-1.noarch.rpm"));
            Files.writeString(repo.resolve("Packages/.kiln-dav-1.5-1.noarch.rpm.dead-publish.part"), "half");
            Files.createDirectories(repo.resolve("repodata.next-dead-publish"));
            Files.writeString(repo.resolve("repodata.next-dead-publish/repomd.xml"), "<repomd/>");
            Files.writeString(repo.resolve(".kiln/lock"), "id=dead\nhost=" + java.net.InetAddress.getLocalHost().getHostName()
                    + "\npid=999999\nsince=2026-01-01T00:00:00Z\nexpires=2099-01-01T00:00:00Z\n");
            Path root = Files.createTempDirectory(dir, "root");
            TestRpms.Run before = TestRpms.dnf(root, nginx.url(), "install", "kiln-dav");
            assertThat(before.exitCode()).as("the live metadata is untouched by the leftovers: " + before.output()).isZero();

            target.publish(List.of(rpms.get(6)), Map.of(), key);

            assertThat(repo.resolve("Packages/kiln-dav-1.5-1.noarch.rpm")).doesNotExist();
            assertThat(repo.resolve("Packages/.kiln-dav-1.5-1.noarch.rpm.dead-publish.part")).doesNotExist();
            assertThat(repo.resolve("repodata.next-dead-publish")).doesNotExist();
            assertThat(repo.resolve(".kiln/pending")).isEmptyDirectory();
            assertThat(target.list()).extracting(Object::toString).containsExactly("kiln-dav-1.0-1.noarch", "kiln-dav-1.6-1.noarch");
        }
    }

    @Test
    void verifyReportsEveryProblemOnBothKinds() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-verify"), "")) {
            Path folder = dir.resolve("verify-dir/repo");
            List<PublishTarget> targets = List.of(open(nginx.url(), Map.of(), dir.resolve("cache-verify")),
                    Targets.open(TargetConfig.localDirectory(folder), Map.of(), dir.resolve("cache-verify")));
            List<Path> roots = List.of(nginx.repository(), folder);
            for (int i = 0; i < targets.size(); i++) {
                PublishTarget target = targets.get(i);
                target.publish(List.of(rpms.get(0), rpms.get(1), rpms.get(2)), Map.of(), key);
                dev.kiln.repo.Verification good = target.verify(key);
                assertThat(good.problems()).as(target.config().describe()).isEmpty();
                assertThat(good.packages()).isEqualTo(3);
                assertThat(good.metadataFiles()).isEqualTo(4);

                Path root = roots.get(i).toRealPath();
                // another key's package in place of one, a cut package, a changed repomd.xml
                Path foreign = TestRpms.binary(Files.createTempDirectory(dir, "foreign"), "kiln-dav", "1.0", "w19.zstdio");
                new RpmSigner(KeyGenerator.generate(dir.resolve("other-" + i + ".asc"), dir.resolve("other-" + i + ".pub"),
                        "Other <o@x>", "pw".toCharArray())).sign(foreign);
                replace(root.resolve("Packages/kiln-dav-1.0-1.noarch.rpm"), Files.readAllBytes(foreign));
                byte[] cut = Files.readAllBytes(root.resolve("Packages/kiln-dav-1.1-1.noarch.rpm"));
                replace(root.resolve("Packages/kiln-dav-1.1-1.noarch.rpm"), java.util.Arrays.copyOf(cut, cut.length - 10));
                Path repomd = root.resolve("repodata/repomd.xml");
                replace(repomd, Files.readString(repomd).replace("<revision>", "<revision>1").getBytes());

                dev.kiln.repo.Verification bad = target.verify(key);
                assertThat(bad.problems()).as(target.config().describe()).extracting(p -> p.kind() + " " + p.path())
                        .containsExactlyInAnyOrder("metadata-signature repodata/repomd.xml.asc",
                                "checksum Packages/kiln-dav-1.0-1.noarch.rpm", "checksum Packages/kiln-dav-1.1-1.noarch.rpm");
            }
        }
    }

    @Test
    void a5xxMidwayIsRetriedWithBackoffAndOneThatPersistsIsAClearErrorWithTheRepositoryUntouched() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-5xx"), "");
                FaultyProxy proxy = new FaultyProxy(nginx.url())) {
            PublishTarget target = open(proxy.url(), Map.of(), dir.resolve("cache-5xx"));
            // every fifth request answered 503 once: the publish goes through on the retries
            proxy.fails = n -> n % 5 == 0;
            target.publish(List.of(rpms.get(0)), Map.of(), key);
            assertThat(proxy.failed.get()).as("503s the publish rode out").isGreaterThan(2);
            assertThat(open(nginx.url(), Map.of(), dir.resolve("cache-5xx-check")).list()).hasSize(1);

            // midway (after the lock, the journal and the first PUTs) every PUT answers 500: five attempts, one line,
            // and the publish removes what it had written
            String before = treeDigest(nginx.repository());
            proxy.failMethod = "PUT";
            proxy.failStatus = 500;
            int from = proxy.requests.get() + 12;
            proxy.fails = n -> n > from;
            long started = System.nanoTime();
            assertThatThrownBy(() -> target.publish(List.of(rpms.get(1)), Map.of(), key))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                    .hasMessageContaining("answered 500 to PUT").hasMessageContaining(WebDav.ATTEMPTS + " attempts");
            System.out.println("a PUT answered 500 every time was reported after " + (System.nanoTime() - started) / 1_000_000 + " ms");
            assertThat(treeDigest(nginx.repository())).isEqualTo(before);
        }
    }

    @Test
    void aDownloadThatStallsHalfwayIsAbandonedAfterTheTimeoutAndRetried() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-stall"), "");
                FaultyProxy proxy = new FaultyProxy(nginx.url())) {
            byte[] content = new byte[512 * 1024];
            new java.util.Random(7).nextBytes(content);
            Files.createDirectories(nginx.repository().resolve("Packages"));
            Files.write(nginx.repository().resolve("Packages/big.rpm"), content);
            proxy.plan("GET", p -> p.endsWith("/Packages/big.rpm"), FaultyProxy.Fault.STALL_MIDWAY);
            WebDav dav = new WebDav(target(proxy.url()), Optional.empty(), java.net.http.HttpClient.newHttpClient(), Duration.ofSeconds(1));
            Path file = dir.resolve("stall/big.rpm");
            long started = System.nanoTime();
            assertThat(dav.download("Packages/big.rpm", file)).isTrue();
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertThat(proxy.hits(FaultyProxy.Fault.STALL_MIDWAY)).as("the first answer stalled halfway").isEqualTo(1);
            assertThat(Files.readAllBytes(file)).as("the retry got it whole").isEqualTo(content);
            // the stall lasts a minute: the client gave up on it after its one-second timeout, not when the server hung up
            assertThat(millis).as("ms").isLessThan(FaultyProxy.STALL_MIDWAY_FOR.toMillis() / 3);
            System.out.println("a download stalled halfway was retried and complete after " + millis + " ms");
        }
    }

    @Test
    void nginxKilledAndRestartedMidPublishLeavesTheOldOrTheNewRepository() throws Exception {
        try (NginxDav nginx = NginxDav.start(dir.resolve("nginx-restart"), "")) {
            PublishTarget target = open(nginx.url(), Map.of(), dir.resolve("cache-restart"));
            target.publish(List.of(rpms.get(0)), Map.of(), key);
            java.util.Random random = new java.util.Random(7);
            Map<String, Integer> outcomes = new java.util.TreeMap<>();
            int listed = 1;
            for (int trial = 0; trial < 10; trial++) {
                Path rpm = rpms.get(1 + trial);
                var publish = java.util.concurrent.CompletableFuture.supplyAsync(() -> target.publish(List.of(rpm), Map.of(), key));
                Thread.sleep(random.nextInt(120));
                nginx.kill(); // SIGKILL to the master and its worker, whatever they were doing
                Thread.sleep(random.nextInt(300));
                nginx.start();
                String outcome;
                try {
                    publish.join();
                    outcome = "published (rode out the restart)";
                } catch (java.util.concurrent.CompletionException e) {
                    assertThat(e.getCause()).isInstanceOf(KilnException.class);
                    outcome = "failed with exit " + ((KilnException) e.getCause()).exitCode();
                }
                outcomes.merge(outcome, 1, Integer::sum);
                PublishTarget checker = open(nginx.url(), Map.of(), dir.resolve("cache-restart-check"));
                assertThat(checker.verify(key).problems()).as("trial " + trial).isEmpty();
                int now = checker.list().size();
                assertThat(now).as("trial " + trial + ": old or new").isIn(listed, listed + 1);
                listed = now;
            }
            System.out.println("nginx killed mid-publish 10 times: " + outcomes);
            target.publish(List.of(rpms.get(11)), Map.of(), key);
            assertThat(target.verify(key).problems()).isEmpty();
            assertThat(nginx.repository().resolve(".kiln/pending")).isEmptyDirectory();
            Path root = Files.createTempDirectory(dir, "root");
            TestRpms.Run run = TestRpms.dnf(root, nginx.url(), "install", "kiln-dav-1.11");
            assertThat(run.exitCode()).as(run.output()).isZero();
        }
    }

    /** Replaces a file's bytes in place (a hard link into a directory target's snapshot is replaced through it). */
    private static void replace(Path file, byte[] content) throws IOException {
        Path real = file.toRealPath();
        Path temp = real.resolveSibling(real.getFileName() + ".tamper");
        Files.write(temp, content);
        Files.move(temp, real, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Every file under {@code root} with its SHA-256, sorted. */
    static String treeDigest(Path root) throws IOException {
        StringBuilder tree = new StringBuilder();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                tree.append(root.relativize(p)).append(' ');
                if (Files.isRegularFile(p)) {
                    tree.append(Sha256.hex(p));
                }
                tree.append('\n');
            }
        }
        return tree.toString();
    }
}
