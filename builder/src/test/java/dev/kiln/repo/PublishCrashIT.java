package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.config.TargetConfig;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publishers killed with SIGKILL at random moments, {@value #TRIALS} times in a row against one
 * repository of each kind: after each kill the repository verifies (every checksum and signature)
 * and lists the packages of a whole number of publishes, in order (the old or the new state); every
 * {@value #DNF_EVERY}th time real dnf reads it too; the next publish completes and leaves nothing
 * behind.
 */
class PublishCrashIT {

    static final int TRIALS = Integer.getInteger("kiln.crash.trials", 200);
    static final int DNF_EVERY = 50;

    @TempDir
    static Path dir;
    static SigningKey key;
    static RpmSigner signer;
    static Path rpms;
    static int made;

    @BeforeAll
    static void setUp() throws IOException {
        key = KeyGenerator.generate(dir.resolve("key.asc"), dir.resolve("key.pub"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
        signer = new RpmSigner(key);
        rpms = Files.createDirectories(dir.resolve("rpms"));
    }

    /** Makes sure RPMs up to index {@code upTo} exist. */
    static synchronized void ensureRpms(int upTo) throws IOException {
        for (; made <= upTo; made++) {
            SyntheticRpms.write(rpms, "synth", "1." + made, signer);
        }
    }

    /** Both kinds at once (two cores): each loop is a child JVM start, a random wait, a kill and a full check. */
    @Test
    void aKilledPublishLeavesTheOldOrTheNewRepositoryOnBothKinds() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.kiln.repo.http.NginxDavAccess.available(), "nginx with WebDAV is not installed");
        ensureRpms(TRIALS * 2);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
            var directory = pool.submit(() -> {
                directoryTrials();
                return null;
            });
            var webdav = pool.submit(() -> {
                webDavTrials();
                return null;
            });
            directory.get();
            webdav.get();
        }
    }

    private void directoryTrials() throws Exception {
        Path folder = dir.resolve("directory/repo");
        trials("directory", folder.toString(), () -> Targets.open(TargetConfig.localDirectory(folder), Map.of(), dir.resolve("cache-d")),
                folder.toUri());
        // what killed publishes left (files being written, an unfinished metadata folder) went with the next publish
        try (Stream<Path> files = Files.walk(folder)) {
            assertThat(files.map(Path::toString)).noneMatch(p -> p.endsWith(".part")).noneMatch(p -> p.endsWith(".tmp"));
        }
        assertThat(folder.resolve(".incoming")).isEmptyDirectory();
        assertThat(folder.resolveSibling("repo.snapshots")).doesNotExist();
    }

    private void webDavTrials() throws Exception {
        try (AutoCloseable nginx = dev.kiln.repo.http.NginxDavAccess.start(dir.resolve("nginx"))) {
            URI url = dev.kiln.repo.http.NginxDavAccess.url(nginx);
            TargetConfig config = new TargetConfig("crash", TargetConfig.Kind.WEBDAV, Optional.empty(), Optional.of(url), "",
                    PublishLoop.BURST_GRACE, Duration.ofSeconds(60), TargetConfig.DEFAULT_INDEX_TIMEOUT);
            trials("webdav", url.toString(), () -> Targets.open(config, Map.of(), dir.resolve("cache-w-check")), url);
            Path served = dev.kiln.repo.http.NginxDavAccess.repository(nginx);
            assertThat(served.resolve(".kiln/pending")).isEmptyDirectory();
            try (Stream<Path> top = Files.list(served)) {
                assertThat(top.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("repodata.next-"));
            }
            try (Stream<Path> files = Files.walk(served)) {
                assertThat(files.map(Path::toString)).noneMatch(p -> p.endsWith(".part"));
            }
        }
    }

    /**
     * The child JVM's classpath as unsigned jars only, and an AOT cache trained by one short publish
     * loop of {@code kind}. A JVM archives no class of a signed jar (BouncyCastle's are) and checks
     * the signature of each it loads: unsigned copies take a publisher's start from about 0.7 s to
     * 0.35 s here, so a trial is spent in a publish rather than in starting one.
     */
    private static synchronized List<String> childJvm(String kind, String location) throws Exception {
        if (childClasspath == null) {
            Path lib = Files.createDirectories(dir.resolve("child-lib"));
            List<String> entries = new java.util.ArrayList<>();
            for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                for (Path p : expanded(Path.of(entry))) {
                    Path jar = lib.resolve("child-" + entries.size() + ".jar");
                    if (Files.isDirectory(p)) {
                        jarFolder(p, jar);
                    } else {
                        Files.copy(p, jar);
                    }
                    entries.add(jar.toString());
                }
            }
            dev.kiln.cli.UnsignedJars.main(new String[] {lib.toString()}); // as the launcher does with its lib/
            childClasspath = String.join(java.io.File.pathSeparator, entries);
        }
        Path cache = dir.resolve("child-" + kind + ".aot");
        List<String> base = List.of(javaBinary(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xlog:disable",
                "-Xlog:all=error:stderr", "-cp", childClasspath);
        if (!Files.exists(cache)) {
            List<String> training = new java.util.ArrayList<>(base);
            training.add(1, "-XX:AOTCacheOutput=" + cache);
            Path scratch = dir.resolve("training-" + kind);
            training.addAll(List.of(PublishLoop.class.getName(), kind,
                    kind.equals("webdav") ? location.replaceAll("/[^/]+/$", "/training/") : scratch.toString(),
                    dir.resolve("training-cache-" + kind).toString(), dir.resolve("key.asc").toString(), rpms.toString(), "0", "3"));
            Process p = new ProcessBuilder(training).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException("training run failed: " + out);
            }
        }
        List<String> command = new java.util.ArrayList<>(base);
        if (Files.exists(cache)) {
            command.add(1, "-XX:AOTCache=" + cache);
        }
        return command;
    }

    /** A classpath entry, or what a manifest-only jar (the test runner's booter) names in its {@code Class-Path}. */
    private static List<Path> expanded(Path entry) throws IOException {
        if (Files.isDirectory(entry)) {
            return List.of(entry);
        }
        try (var jar = new java.util.jar.JarFile(entry.toFile(), false)) {
            var manifest = jar.getManifest();
            String classPath = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
            if (classPath == null || classPath.isBlank()) {
                return List.of(entry);
            }
            List<Path> named = new java.util.ArrayList<>();
            for (String url : classPath.trim().split("\\s+")) {
                named.add(Path.of(entry.toAbsolutePath().getParent().toUri().resolve(url)));
            }
            return named;
        }
    }

    private static String childClasspath;

    private static void jarFolder(Path folder, Path jar) throws IOException {
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar)); Stream<Path> walk = Files.walk(folder)) {
            for (Path f : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator) {
                out.putNextEntry(new java.util.jar.JarEntry(folder.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }

    private void trials(String kind, String location, Supplier<PublishTarget> checker, URI dnfUrl) throws Exception {
        Random random = new Random(kind.hashCode());
        Path cache = dir.resolve("cache-" + kind);
        int next = 0;
        Map<String, Integer> outcomes = new TreeMap<>();
        List<Long> firstPublish = new java.util.ArrayList<>();
        List<Long> secondPublish = new java.util.ArrayList<>();
        List<Long> windows = new java.util.ArrayList<>();
        long started = System.nanoTime();
        // The next publisher is started while the repository is checked after a kill: its JVM start is not part of a trial.
        Process child = null;
        try {
            for (int trial = 0; trial < TRIALS; trial++) {
                ensureRpms(next + 60);
                if (child == null) {
                    child = publisher(kind, location, cache);
                }
                BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
                String line = out.readLine();
                assertThat(line).as("the publisher started").isEqualTo("ready");
                child.getOutputStream().write((next + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                child.getOutputStream().flush();
                // what it reports is read as it comes (the kill closes the pipe): when each publish was done
                List<Long> done = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                Thread reader = Thread.ofVirtual().start(() -> {
                    try {
                        for (String l; (l = out.readLine()) != null; ) {
                            if (l.startsWith("published ")) {
                                done.add(System.nanoTime());
                            }
                        }
                    } catch (IOException e) {
                        // the pipe closed with the kill
                    }
                });
                long readyAt = System.nanoTime();
                // Even trials kill in a cold JVM's first publish, odd ones in the second, warm one: so kills land before,
                // in and after every step of both, whatever this machine's speed. The wait is drawn over 1.4 times the
                // median that publish took so far (1.5 s, 0.5 s until one is seen).
                boolean warm = trial % 2 == 1;
                if (warm) {
                    while (done.isEmpty() && child.isAlive() && System.nanoTime() - readyAt < 60_000_000_000L) {
                        Thread.sleep(5);
                    }
                    assertThat(done).as("trial " + trial + ": the first publish completed").isNotEmpty();
                }
                List<Long> seen = warm ? secondPublish : firstPublish;
                long window = seen.isEmpty() ? (warm ? 500 : 1500) : Math.max(50, median(seen) * 14 / 10);
                windows.add(window);
                long from = warm ? done.get(0) : readyAt;
                Thread.sleep(Math.max(0, random.nextLong(window) - (System.nanoTime() - from) / 1_000_000));
                assertThat(child.isAlive()).as("trial " + trial + ": the publisher was still publishing when killed (it stops only "
                        + "by failing: run PublishLoop by hand to see why)").isTrue();
                child.destroyForcibly(); // SIGKILL
                child.waitFor();
                reader.join();
                child = trial + 1 < TRIALS ? publisher(kind, location, cache) : null;
                int reported = done.size();
                if (reported > 0) {
                    firstPublish.add((done.get(0) - readyAt) / 1_000_000);
                }
                if (reported > 1) {
                    secondPublish.add((done.get(1) - done.get(0)) / 1_000_000);
                }

                try (PublishTarget target = checker.get()) {
                    Verification v = target.verify(key);
                    assertThat(v.problems()).as("trial " + trial + " of " + kind).isEmpty();
                    List<Nevra> listed = target.list();
                    // old or new state: the packages of a whole number of publishes, in order, none skipped
                    assertThat(listed).as("trial " + trial).extracting(Nevra::version)
                            .containsExactlyInAnyOrderElementsOf(IntStream.range(0, listed.size()).mapToObj(i -> "1." + i).toList());
                    assertThat(listed.size()).as("trial " + trial + ": at least what the publisher reported done")
                            .isGreaterThanOrEqualTo(next + reported);
                    outcomes.merge(listed.size() > next + reported ? "killed after the swap, before reporting"
                            : reported == 0 ? "killed before its first publish went live" : "killed between publishes or mid-publish", 1, Integer::sum);
                    next = listed.size();
                }
                if (trial % DNF_EVERY == DNF_EVERY - 1 && next > 0) {
                    Path root = Files.createTempDirectory(dir, "root");
                    TestRpms.Run run = TestRpms.dnf(root, dnfUrl, "repoquery", "--qf", "%{name}-%{version}", "synth");
                    assertThat(run.exitCode()).as("dnf after trial " + trial + ": " + run.output()).isZero();
                    assertThat(run.output()).contains("synth-1." + (next - 1));
                }
            }
        } finally {
            if (child != null) {
                child.destroyForcibly();
            }
        }
        // the next publish completes and clears what the killed ones left
        ensureRpms(next + 1);
        try (PublishTarget target = checker.get()) {
            target.publish(List.of(rpms.resolve("synth-1." + next + "-1.noarch.rpm")), Map.of(), key);
            assertThat(target.list()).hasSize(next + 1);
            assertThat(target.verify(key).problems()).isEmpty();
        }
        System.out.printf("%s: %d kills in %.1f s (waits drawn up to %d ms, median; a first publish in a fresh JVM took %d ms, "
                + "median), %d publishes went live; %s%n", kind, TRIALS, (System.nanoTime() - started) / 1e9,
                median(windows),
                firstPublish.isEmpty() ? -1 : median(firstPublish), next + 1, outcomes);
        // kills landed all over a publish: some before the first one went live, some after
        assertThat(outcomes.getOrDefault("killed before its first publish went live", 0)).as(kind).isGreaterThanOrEqualTo(TRIALS / 10);
        assertThat(TRIALS - outcomes.getOrDefault("killed before its first publish went live", 0)).as(kind)
                .isGreaterThanOrEqualTo(TRIALS / 10);
    }

    /** A publisher JVM that sets up, says {@code ready}, and waits for the index to publish from on its standard input. */
    private static Process publisher(String kind, String location, Path cache) throws Exception {
        List<String> command = new java.util.ArrayList<>(childJvm(kind, location));
        command.addAll(List.of(PublishLoop.class.getName(), kind, location, cache.toString(), dir.resolve("key.asc").toString(),
                rpms.toString(), "stdin"));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static long median(List<Long> values) {
        return values.stream().sorted().toList().get(values.size() / 2);
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }
}
