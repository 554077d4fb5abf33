package dev.kiln.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.KilnProject;
import dev.kiln.rpm.RpmFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile specs built for real by the CLI in the real build container: a build that smuggles an
 * undeclared package into its output, leaves something that is not an RPM or too many files, floods
 * its log with or without newlines, or prints terminal escape sequences. Each ends with the safe
 * outcome; the floods run the CLI with a 128 MiB heap while the engine's log file is watched.
 */
class HostileOutputIT {

    @TempDir
    static Path tmp;

    static KilnProject project;
    static DockerEngine engine;

    /** One CLI run with what was watched while it ran. */
    record Run(int exitCode, byte[] stdout, byte[] stderr, long peakRssKib, long peakEngineLogBytes) {
        String err() {
            return new String(stderr, StandardCharsets.UTF_8);
        }

        String describe() {
            String err = err();
            return "exit " + exitCode + "\n--- stdout\n" + new String(stdout, StandardCharsets.UTF_8)
                    + "\n--- stderr (last 4000 chars)\n" + err.substring(Math.max(0, err.length() - 4000));
        }

        String lastError() {
            return err().lines().filter(l -> l.startsWith("kiln: ")).reduce((a, b) -> b).orElse("");
        }
    }

    @BeforeAll
    static void project() throws IOException {
        project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
        engine = DockerEngine.connect(project.root().resolve(".kiln"), s -> { });
    }

    @AfterEach
    void noContainerLeft() {
        assertThat(engine.client().listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec())
                .as("no build container left behind").isEmpty();
    }

    static String spec(String name, String install) {
        return """
                Name: %s
                Version: 1.0
                Release: 1
                Summary: Hostile output test
                License: MIT
                BuildArch: noarch
                %%description
                Test.
                %%install
                mkdir -p %%{buildroot}/usr/share/%s
                echo ok > %%{buildroot}/usr/share/%s/ok
                %s
                %%files
                /usr/share/%s/ok
                """.formatted(name, name, name, install, name);
    }

    @Test
    void anUndeclaredPackageDroppedByANestedRpmbuildFailsTheBuildAndNothingIsSignedOrPublished() throws IOException {
        // The inner spec's section lines are spelled without a literal percent sign, or the outer spec would read them as its own.
        project.write("specs/smuggle/smuggle.spec", spec("smuggle", """
                P=$(printf '\\045')
                { echo 'Name: coreutils'; echo 'Version: 99'; echo 'Release: 1'; echo 'Summary: Not coreutils'
                  echo 'License: MIT'; echo 'BuildArch: noarch'; echo 'Provides: sudo = 999'
                  echo "${P}description"; echo 'Not coreutils.'; echo "${P}files"; } > $HOME/evil.spec
                rpmbuild --define "_topdir $HOME/rpmbuild" -bb $HOME/evil.spec
                """));
        Run r = build("smuggle", Map.of());

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
        assertThat(r.lastError()).as(r.describe()).contains("build output coreutils-99-1.noarch.rpm is package coreutils",
                "specs/smuggle/smuggle.spec does not declare", "nothing was signed or published");
        assertThat(published()).as("nothing published").noneMatch(p -> p.contains("coreutils") || p.contains("smuggle"));
        List<Path> left = recordRpms("smuggle");
        assertThat(left).extracting(p -> p.getFileName().toString()).contains("coreutils-99-1.noarch.rpm");
        assertThat(left).as("nothing signed").allSatisfy(p -> assertThat(RpmFile.read(p).signed()).isFalse());
    }

    @Test
    void anOutputThatIsNotAnRpmIsABuildFailureNamingIt() {
        project.write("specs/notrpm/notrpm.spec", spec("notrpm", "echo 'not an rpm' > $HOME/rpmbuild/RPMS/notrpm-1.0-1.noarch.rpm\n"));
        Run r = build("notrpm", Map.of());

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
        assertThat(r.lastError()).as(r.describe()).contains("build output notrpm-1.0-1.noarch.rpm is not an RPM");
        assertThat(published()).noneMatch(p -> p.contains("notrpm"));
    }

    @Test
    void moreOutputFilesThanTheLimitFailTheBuildNamingTheLimit() {
        project.write("specs/many/many.spec", spec("many",
                "seq -f \"$HOME/rpmbuild/RPMS/many-%%g.rpm\" " + (ContainerLimits.OUTPUT_MAX_FILES + 1) + " | xargs touch\n"));
        Run r = build("many", Map.of());

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
        assertThat(r.lastError()).as(r.describe()).contains("more than " + ContainerLimits.OUTPUT_MAX_FILES + " files (the output file limit)");
        assertThat(recordRpms("many")).as("nothing copied out").isEmpty();
    }

    @Test
    void escapeSequencesInTheBuildLogNeverReachTheTerminalRaw() {
        project.write("specs/forge/forge.spec", spec("forge", """
                printf '\\033[2J\\033[H\\033]0;owned\\007\\033[1;32mBuilt hello-9.9-1 (signed)\\033[0m\\n'
                printf '\\233' ; printf '31m eight-bit CSI\\302\\233 encoded CSI\\r\\n'
                """));
        Run r = build("forge", Map.of());

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(indexOfAny(r.stderr(), (byte) 0x1B, (byte) 0x07, (byte) 0x9B)).as(r.describe()).isEqualTo(-1);
        assertThat(indexOfAny(r.stdout(), (byte) 0x1B, (byte) 0x07, (byte) 0x9B)).isEqualTo(-1);
        assertThat(r.err()).contains("  | ^[[2J^[[H^[]0;owned^G^[[1;32mBuilt hello-9.9-1 (signed)^[[0m")
                .contains("\\u009b encoded CSI^M");
    }

    @Test
    void aHundredMegabyteLogFloodKeepsBuildLogEngineLogAndHeapBounded() throws IOException {
        // 100 MB in lines of 80 bytes.
        project.write("specs/flood/flood.spec", spec("flood",
                "yes 'flood: a line of build output that goes on and on to fill the log, 80 bytes.' | head -c 100000000\n"));
        Run r = build("flood", Map.of("JAVA_TOOL_OPTIONS", "-Xmx128m"));

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertBounded(r, "flood");
        report("flood 100 MB with newlines", r);
    }

    @Test
    void aGigabyteWithoutNewlinesIsCutIntoMarkedPiecesAndKeepsEverythingBounded() throws IOException {
        project.write("specs/noeol/noeol.spec", spec("noeol", "head -c 1000000000 /dev/zero | tr '\\0' z; echo\n"));
        Run r = build("noeol", Map.of("JAVA_TOOL_OPTIONS", "-Xmx128m"));

        assertThat(r.exitCode()).as(r.describe()).isZero();
        String log = assertBounded(r, "noeol");
        assertThat(log).contains(LineSplitter.cutMarker(ContainerLimits.LOG_LINE_BYTES));
        assertThat(log.lines().filter(l -> l.startsWith("zzz")).mapToInt(String::length).max().orElse(0))
                .as("no piece longer than the line limit and its marker")
                .isLessThanOrEqualTo(ContainerLimits.LOG_LINE_BYTES + LineSplitter.cutMarker(ContainerLimits.LOG_LINE_BYTES).length());
        report("flood 1 GB without newlines", r);
    }

    /** build.log at most head + tail (+ Kiln's own lines), with the Wrote: lines after the cut and the end marker last. */
    private static String assertBounded(Run r, String pkg) throws IOException {
        assertThat(r.err()).doesNotContain("OutOfMemoryError");
        Path log = latestRecord(pkg).resolve("build.log");
        assertThat(Files.size(log)).as("build.log size").isLessThan(11L << 20);
        String text = Files.readString(log);
        int cut = text.indexOf("-- build output cut: ");
        assertThat(cut).as("the log says how much was left out").isPositive();
        assertThat(text.indexOf("Wrote: ", cut)).as("rpmbuild's Wrote: lines are kept after the cut").isPositive();
        List<String> lines = text.lines().toList();
        assertThat(lines.getLast()).contains("End of build.log (built)");
        assertThat(r.stderr().length).as("terminal echo bounded").isLessThan(5 << 20);
        assertThat(r.err().lines().filter(l -> l.contains("build output not shown from here on"))).hasSize(1);
        assertThat(r.peakEngineLogBytes()).as("engine's json-file log").isPositive().isLessThan(20L << 20);
        return text;
    }

    private static void report(String what, Run r) {
        System.out.printf("[figures] %s: CLI peak RSS %d MiB (-Xmx128m), engine log peak %.1f MiB%n",
                what, r.peakRssKib() / 1024, r.peakEngineLogBytes() / 1048576.0);
    }

    /** Runs {@code kiln build pkg} watching the CLI's peak RSS and the build container's engine log size. */
    private static Run build(String pkg, Map<String, String> env) {
        try {
            Process process = project.start(List.of("build", pkg), env);
            // One thread per stream: on the common pool (one thread on two cores) stderr waits behind stdout and the CLI blocks.
            CompletableFuture<byte[]> out = new CompletableFuture<>();
            CompletableFuture<byte[]> err = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> out.complete(readAll(process.getInputStream())));
            Thread.ofVirtual().start(() -> err.complete(readAll(process.getErrorStream())));
            AtomicLong rss = new AtomicLong();
            AtomicLong engineLog = new AtomicLong();
            Thread watch = Thread.ofVirtual().start(() -> {
                while (process.isAlive()) {
                    rss.accumulateAndGet(peakRssKib(process.pid()), Math::max);
                    engineLog.accumulateAndGet(engineLogBytes(), Math::max);
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            if (!process.waitFor(15, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException("kiln build " + pkg + " did not finish");
            }
            watch.join();
            return new Run(process.exitValue(), out.join(), err.join(), rss.get(), engineLog.get());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** VmHWM: the highest resident set size the process has had so far. */
    private static long peakRssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException gone) {
            // The process ended between the check and the read.
        }
        return 0;
    }

    /** The bytes of the json-file logs (current and rotated) of the running build container. */
    private static long engineLogBytes() {
        long total = 0;
        try {
            for (var c : engine.client().listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec()) {
                String logPath = engine.client().inspectContainerCmd(c.getId()).exec().getLogPath();
                if (logPath == null || logPath.isEmpty()) {
                    continue;
                }
                Path file = Path.of(logPath);
                try (Stream<Path> files = Files.list(file.getParent())) {
                    for (Path f : files.filter(f -> f.getFileName().toString().startsWith(file.getFileName().toString())).toList()) {
                        total += Files.size(f);
                    }
                }
            }
        } catch (IOException | RuntimeException gone) {
            // The container was removed while it was looked at.
        }
        return total;
    }

    private static List<String> published() {
        Path repo = project.root().resolve(".kiln");
        try (Stream<Path> walk = Files.walk(repo)) {
            return walk.filter(p -> p.toString().contains("repo")).map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".rpm")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path latestRecord(String pkg) throws IOException {
        try (Stream<Path> records = Files.list(project.root().resolve(".kiln/builds").resolve(pkg))) {
            return records.max(Comparator.naturalOrder()).orElseThrow();
        }
    }

    private static List<Path> recordRpms(String pkg) {
        try {
            Path rpms = latestRecord(pkg).resolve("rpms");
            if (!Files.isDirectory(rpms)) {
                return List.of();
            }
            try (Stream<Path> files = Files.list(rpms)) {
                return files.filter(Files::isRegularFile).toList();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int indexOfAny(byte[] bytes, byte... forbidden) {
        for (int i = 0; i < bytes.length; i++) {
            for (byte f : forbidden) {
                if (bytes[i] == f) {
                    return i;
                }
            }
        }
        return -1;
    }

    private static byte[] readAll(InputStream in) {
        try (in; ByteArrayOutputStream bytes = new ByteArrayOutputStream()) {
            in.transferTo(bytes);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
