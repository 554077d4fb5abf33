package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.KilnProject;
import dev.kiln.container.BuildContainer;
import dev.kiln.container.DockerEngine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Crashes performed for real on the real CLI process: SIGINT, SIGTERM and SIGKILL while a
 * dependent build runs in its container, an I/O error in one of two parallel builds, and an I/O
 * error inside a build record. Containers and images are counted by the owner label of the CLI
 * process that made them, so builds of others on a shared engine are neither counted nor touched.
 */
class CrashIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String OWNER_LABEL = "dev.kiln.owner";
    private static final String DEPENDENCY_LABEL = "dev.kiln.dependencies";

    @TempDir
    static Path tmp;

    static KilnProject project;
    static DockerEngine engine;

    @BeforeAll
    static void project() throws IOException {
        project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
        // slow needs libgreet, so it builds in a kiln/deps image made for this build: both must go on a stop.
        project.write("specs/slow/slow.spec", """
                Name: slow
                Version: 1.0
                Release: 1
                Summary: Sleeps in %build
                License: MIT
                BuildArch: noarch
                BuildRequires: libgreet
                %description
                Test.
                %build
                echo sleeping now
                sleep 300
                %files
                """);
        project.write("specs/late/late.spec", """
                Name: late
                Version: 1.0
                Release: 1
                Summary: Takes a few seconds
                License: MIT
                BuildArch: noarch
                %description
                Test.
                %build
                sleep 4
                %files
                """);
        project.commit("slow and late");
        KilnProject.Result libgreet = project.run("build", "libgreet");
        assertThat(libgreet.exitCode()).as(libgreet.describe()).isZero();
        engine = DockerEngine.connect(project.root().resolve(".kiln"), s -> { });
    }

    @AfterAll
    static void close() {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void ctrlCAndSigtermStopADependentBuildWithOneLineAndLeaveNothingBehind() throws Exception {
        for (String signal : List.of("INT", "TERM", "INT", "TERM")) {
            Running run = startUntilTheContainerRuns("build", "slow", "--no-publish");
            assertThat(owned(run.pid())).as("what the build made while it runs").isEqualTo(new Owned(1, 1));
            int rc = new ProcessBuilder("kill", "-s", signal, Long.toString(run.pid())).inheritIO().start().waitFor();
            assertThat(rc).isZero();
            Finished done = run.finish();
            Owned left = owned(run.pid());
            System.out.println("FIGURE SIG" + signal + ": exit " + done.exitCode() + ", left behind: " + left.containers()
                    + " containers, " + left.images() + " images");
            assertThat(done.exitCode()).as(done.describe()).isEqualTo(signal.equals("INT") ? 130 : 143);
            assertThat(errorLines(done.stderr())).as(done.describe())
                    .containsExactly("kiln: interrupted: the builds were stopped and their containers and images removed");
            assertThat(done.stderr()).as(done.describe())
                    .doesNotContain("\tat ", "Exception", "out of memory", "Connection pool");
            assertThat(left).as("left behind after SIG" + signal).isEqualTo(new Owned(0, 0));
        }
    }

    @Test
    void sigkillLeavesOrphansThatTheNextRunRemovesAndSaysSo() throws Exception {
        for (int trial = 0; trial < 2; trial++) {
            Running run = startUntilTheContainerRuns("build", "slow", "--no-publish");
            run.process().destroyForcibly(); // SIGKILL: no hook runs
            Finished done = run.finish();
            assertThat(done.exitCode()).isEqualTo(137);
            Owned orphans = owned(run.pid());
            System.out.println("FIGURE SIGKILL: left behind: " + orphans.containers() + " containers, " + orphans.images()
                    + " images");
            assertThat(orphans).as("a killed run cannot clean up").isEqualTo(new Owned(1, 1));

            KilnProject.Result next = project.run("image", "list");
            assertThat(next.exitCode()).as(next.describe()).isZero();
            assertThat(next.stderr().lines().filter(l -> l.contains("left behind")).toList()).as(next.describe())
                    .hasSize(1).first().asString()
                    .containsPattern("removed [1-9]\\d* build containers? and [1-9]\\d* dependency images? left behind by Kiln runs"
                            + " that were killed");
            Owned after = owned(run.pid());
            System.out.println("FIGURE after the next run: " + after.containers() + " containers, " + after.images() + " images");
            assertThat(after).as("the next run removed the orphans").isEqualTo(new Owned(0, 0));
        }
    }

    @Test
    void anIoErrorInOneOfTwoParallelBuildsIsThatBuildsOutcomeAndTheOtherFinishes() throws Exception {
        // hello comes first in the run's order, so its failure is the first outcome the run collects.
        Path records = project.root().resolve(".kiln/builds/hello");
        KilnProject.deleteTree(records);
        Files.createDirectories(records.getParent());
        Files.writeString(records, "a file where the build records of hello go\n");
        String repositoryBefore = KilnProject.treeDigest(project.root().resolve(".kiln/repo"));
        try {
            // --keep-going: libgreet is built whether or not it starts after hello failed; without it, the same
            // holds for a build already running, which is what the engine's lifetime has to respect.
            Running run = start("build", "hello", "libgreet", "--jobs", "2", "--force", "--keep-going", "--json");
            Finished done = run.finish();
            assertThat(done.exitCode()).as(done.describe()).isEqualTo(70);
            JsonNode doc = JSON.readTree(done.stdout());
            assertThat(doc.get("exitCode").asInt()).isEqualTo(70);
            assertThat(doc.get("published").asBoolean()).isFalse();
            JsonNode hello = build(doc, "hello");
            JsonNode libgreet = build(doc, "libgreet");
            assertThat(libgreet.get("status").asString()).as("the other build finished normally: " + done.describe())
                    .isEqualTo("built");
            assertThat(hello.get("status").asString()).isEqualTo("failed");
            assertThat(hello.get("exitCode").asInt()).isEqualTo(70);
            Path trace = Path.of(hello.get("log").asString());
            assertThat(trace).startsWith(project.root().resolve(".kiln/crashes")).isRegularFile();
            assertThat(Files.readString(trace)).contains(records.toString()).contains("\tat dev.kiln.pipeline.");
            assertThat(errorLines(done.stderr())).as(done.describe()).hasSize(1).first().asString()
                    .startsWith("kiln: hello: internal error: ").contains("stack trace in " + trace);
            assertThat(done.stderr()).as(done.describe()).doesNotContain("\tat ", "Connection pool");
            assertThat(KilnProject.treeDigest(project.root().resolve(".kiln/repo")))
                    .as("nothing published").isEqualTo(repositoryBefore);
            assertThat(owned(run.pid())).isEqualTo(new Owned(0, 0));
        } finally {
            Files.deleteIfExists(records);
        }
    }

    @Test
    void anIoErrorInsideABuildRecordKeepsTheStackTraceInThatRecord() throws Exception {
        Path records = project.root().resolve(".kiln/builds/late");
        Running run = start("build", "late", "--no-publish");
        // While the build sleeps in its container, make record.json impossible to write.
        Path folder = null;
        for (int i = 0; i < 600 && folder == null; i++) {
            if (Files.isDirectory(records)) {
                try (Stream<Path> folders = Files.list(records)) {
                    folder = folders.findFirst().orElse(null);
                }
            }
            Thread.sleep(50);
        }
        assertThat(folder).as("the build record appeared").isNotNull();
        Files.createDirectories(folder.resolve("record.json"));
        Finished done = run.finish();
        assertThat(done.exitCode()).as(done.describe()).isEqualTo(70);
        Path log = folder.resolve("build.log");
        assertThat(errorLines(done.stderr())).as(done.describe()).hasSize(1).first().asString()
                .startsWith("kiln: late: internal error: ").contains("stack trace in " + log);
        assertThat(done.stderr()).as(done.describe()).doesNotContain("\tat ");
        assertThat(Files.readString(log)).contains("internal error").contains("record.json").contains("\tat dev.kiln.pipeline.");
    }

    private static JsonNode build(JsonNode doc, String pkg) {
        for (JsonNode b : doc.get("builds")) {
            if (b.get("package").asString().equals(pkg)) {
                return b;
            }
        }
        throw new AssertionError("no build of " + pkg + " in " + doc);
    }

    private static List<String> errorLines(String stderr) {
        return stderr.lines().filter(l -> l.startsWith("kiln: ")).toList();
    }

    /** Build containers and dependency images whose owner label names process {@code pid}. */
    record Owned(int containers, int images) {
    }

    private static Owned owned(long pid) {
        String mark = ";pid=" + pid + ";";
        int containers = (int) engine.client().listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec().stream()
                .filter(c -> c.getLabels() != null && c.getLabels().getOrDefault(OWNER_LABEL, "").contains(mark)).count();
        int images = (int) engine.client().listImagesCmd()
                .withLabelFilter(Map.of(DEPENDENCY_LABEL, "true")).exec().stream()
                .filter(i -> i.getLabels() != null && i.getLabels().getOrDefault(OWNER_LABEL, "").contains(mark)).count();
        return new Owned(containers, images);
    }

    record Finished(int exitCode, String stdout, String stderr) {
        String describe() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    /** The CLI process, its stderr read as it comes, so a test can act on a line. */
    record Running(Process process, List<String> stderr, CompletableFuture<String> stdout, CompletableFuture<Void> errDone) {
        long pid() {
            return process.pid();
        }

        Finished finish() throws InterruptedException {
            if (!process.waitFor(3, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("the CLI did not end; stderr so far:\n" + String.join("\n", stderr));
            }
            errDone.join();
            synchronized (stderr) {
                return new Finished(process.exitValue(), stdout.join(), String.join("\n", stderr));
            }
        }
    }

    /**
     * Starts the CLI with SIGINT and SIGTERM at their defaults: a test JVM started in the
     * background by a shell inherits SIGINT ignored, and so would the CLI, which then could not be
     * stopped by it.
     */
    private static Running start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT,TERM"));
        command.addAll(KilnProject.command());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(project.root().toFile());
        pb.environment().put("KILN_PROJECT_ROOT", project.root().toString());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("CI", "true");
        Process p = pb.start();
        List<String> err = new ArrayList<>();
        CompletableFuture<Void> errDone = CompletableFuture.runAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (err) {
                        err.add(line);
                        err.notifyAll();
                    }
                }
            } catch (IOException e) {
                // "Stream closed": the process was killed and its pipe closed under the reader; what came is kept.
            }
        });
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(stdout closed: " + e.getMessage() + ")";
            }
        });
        return new Running(p, err, out, errDone);
    }

    /** Starts the CLI and returns once the build's own output shows its container is running. */
    private static Running startUntilTheContainerRuns(String... args) throws Exception {
        Running run = start(args);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        synchronized (run.stderr()) {
            while (run.stderr().stream().noneMatch(l -> l.contains("sleeping now"))) {
                assertThat(run.process().isAlive() && System.nanoTime() < deadline)
                        .as("the build reached its container; stderr:\n" + String.join("\n", run.stderr())).isTrue();
                run.stderr().wait(100);
            }
        }
        return run;
    }
}
