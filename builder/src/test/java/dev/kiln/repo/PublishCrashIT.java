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
                    TargetConfig.DEFAULT_GRACE, Duration.ofSeconds(60), TargetConfig.DEFAULT_INDEX_TIMEOUT);
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
     * The child JVM's classpath as jars only, and an AOT cache trained by one short publish loop of
     * {@code kind}: a fresh publisher then reaches its first write in about half the time, so more of
     * each trial is spent inside a publish.
     */
    private static synchronized List<String> childJvm(String kind, String location) throws Exception {
        if (childClasspath == null) {
            List<String> entries = new java.util.ArrayList<>();
            for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                Path p = Path.of(entry);
                if (Files.isDirectory(p)) {
                    Path jar = dir.resolve("child-" + entries.size() + ".jar");
                    jarFolder(p, jar);
                    entries.add(jar.toString());
                } else {
                    entries.add(entry); // a surefire booter jar names the rest in its manifest, which the JVM follows
                }
            }
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
        // The wait before the kill is drawn over a little more than a first publish takes in a fresh JVM here
        // (directory about 350 ms, WebDAV about 550 ms, with the AOT cache), so kills land anywhere in it: before, in each step, after.
        long publishMillis = kind.equals("webdav") ? 900 : 600;
        Path cache = dir.resolve("cache-" + kind);
        int next = 0;
        Map<String, Integer> outcomes = new TreeMap<>();
        List<Long> firstPublish = new java.util.ArrayList<>();
        long started = System.nanoTime();
        for (int trial = 0; trial < TRIALS; trial++) {
            ensureRpms(next + 60);
            List<String> command = new java.util.ArrayList<>(childJvm(kind, location));
            command.addAll(List.of(PublishLoop.class.getName(), kind, location, cache.toString(), dir.resolve("key.asc").toString(),
                    rpms.toString(), Integer.toString(next)));
            Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
            String line = out.readLine();
            assertThat(line).as("the publisher started").isEqualTo("ready");
            // what it reports is read as it comes: the kill closes the pipe
            java.util.concurrent.atomic.AtomicInteger reportedCount = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicLong firstDone = new java.util.concurrent.atomic.AtomicLong();
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    for (String l; (l = out.readLine()) != null; ) {
                        if (l.startsWith("published ") && reportedCount.incrementAndGet() == 1) {
                            firstDone.set(System.nanoTime());
                        }
                    }
                } catch (IOException e) {
                    // the pipe closed with the kill
                }
            });
            // anywhere in the first few publishes: the child publishes as fast as it can
            long readyAt = System.nanoTime();
            Thread.sleep(random.nextLong(publishMillis));
            assertThat(child.isAlive()).as("trial " + trial + ": the publisher was still publishing when killed (it stops only "
                    + "by failing: run PublishLoop by hand to see why)").isTrue();
            child.destroyForcibly(); // SIGKILL
            child.waitFor();
            reader.join();
            int reported = reportedCount.get();
            if (reported > 0) {
                firstPublish.add((firstDone.get() - readyAt) / 1_000_000);
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
        // the next publish completes and clears what the killed ones left
        ensureRpms(next + 1);
        try (PublishTarget target = checker.get()) {
            target.publish(List.of(rpms.resolve("synth-1." + next + "-1.noarch.rpm")), Map.of(), key);
            assertThat(target.list()).hasSize(next + 1);
            assertThat(target.verify(key).problems()).isEmpty();
        }
        System.out.printf("%s: %d kills in %.1f s (waits up to %d ms; a first publish in a fresh JVM took %d ms, median), "
                + "%d publishes went live; %s%n", kind, TRIALS, (System.nanoTime() - started) / 1e9, publishMillis,
                firstPublish.isEmpty() ? -1 : firstPublish.stream().sorted().toList().get(firstPublish.size() / 2), next + 1, outcomes);
        // kills landed all over a publish: some before the first one went live, some after
        assertThat(outcomes.getOrDefault("killed before its first publish went live", 0)).as(kind).isGreaterThanOrEqualTo(TRIALS / 10);
        assertThat(TRIALS - outcomes.getOrDefault("killed before its first publish went live", 0)).as(kind)
                .isGreaterThanOrEqualTo(TRIALS / 10);
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }
}
