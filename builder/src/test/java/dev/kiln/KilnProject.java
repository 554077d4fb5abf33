package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;

/**
 * A throw-away packaging repository (a Git copy of this project's kiln.yaml, specs, patches and
 * containers) and the real Kiln CLI run against it as a separate process, exactly as a user or
 * a pipeline runs it.
 */
public final class KilnProject {

    public static final Path SOURCE_ROOT = Path.of(System.getenv().getOrDefault("KILN_PROJECT_ROOT", ".."))
            .toAbsolutePath().normalize();
    private static final Path JAR = SOURCE_ROOT.resolve("builder/target/kiln.jar");
    /** The launcher a user runs: the extracted jar with its AOT cache and the JVM flags users get. */
    private static final Path LAUNCHER = SOURCE_ROOT.resolve("kiln");

    private final Path root;
    private final Map<String, String> env = new LinkedHashMap<>();

    private KilnProject(Path root) {
        this.root = root;
    }

    /** The result of one CLI run. */
    public record Result(int exitCode, String stdout, String stderr) {
        public String describe() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    /** Copies the definitions into {@code dir}, commits them, and pins the builder there. */
    public static KilnProject create(Path dir) {
        KilnProject p = new KilnProject(dir);
        try {
            for (String folder : List.of("specs", "patches", "containers")) {
                copyTree(SOURCE_ROOT.resolve(folder), dir.resolve(folder));
            }
            Files.copy(SOURCE_ROOT.resolve("kiln.yaml"), dir.resolve("kiln.yaml"));
            Files.writeString(dir.resolve(".gitignore"), "/.kiln/\n");
            try (Git git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call()) {
                var config = git.getRepository().getConfig();
                config.setString("user", null, "name", "Pat Packager");
                config.setString("user", null, "email", "pat@example.com");
                config.save();
                p.commitAll(git, "definitions");
                // Pin the builder for this machine, so the tests do not depend on when the committed lock was made.
                Result pin = p.run("image", "build", "rpm-builder");
                assertThat(pin.exitCode()).as(pin.describe()).isZero();
                p.commitAll(git, "pin rpm-builder");
            }
        } catch (IOException | org.eclipse.jgit.api.errors.GitAPIException e) {
            throw new IllegalStateException(e);
        }
        return p;
    }

    /** A project that exists already (a clone of another), as it is. */
    public static KilnProject open(Path dir) {
        return new KilnProject(dir);
    }

    /**
     * A project folder holding only {@code kiln.yaml}, for commands that build nothing (repo check,
     * repo list): no definitions, no Git, no engine.
     */
    public static KilnProject settingsOnly(Path dir, String kilnYaml) {
        KilnProject p = new KilnProject(dir);
        p.write("kiln.yaml", kilnYaml);
        return p;
    }

    public Path root() {
        return root;
    }

    public Path repository() {
        return root.resolve(".kiln/repo");
    }

    public KilnProject env(String name, String value) {
        env.put(name, value);
        return this;
    }

    public Result run(String... args) {
        return run(List.of(args), Map.of());
    }

    public Result run(List<String> args, Map<String, String> extraEnv) {
        try {
            Process process = start(args, extraEnv);
            String out;
            String err;
            var errReader = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
            out = read(process.getInputStream());
            err = errReader.join();
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException("kiln " + args + " did not finish");
            }
            return new Result(process.exitValue(), out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts the CLI without waiting, for long-running commands (repo serve, interrupted builds). */
    public Process start(List<String> args, Map<String, String> extraEnv) throws IOException {
        assertThat(JAR).as("the CLI jar (mvn package runs before the integration tests)").isRegularFile();
        List<String> command = new ArrayList<>(command());
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
        pb.environment().put("KILN_PROJECT_ROOT", root.toString());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("CI", "true");
        pb.environment().putAll(env);
        pb.environment().putAll(extraEnv);
        return pb.start();
    }

    /**
     * How the CLI is started: through the launcher, as users run it (the jar mvn package made,
     * extracted once, with the JDK's AOT cache and the launcher's JVM flags), with the test's JDK.
     */
    public static List<String> command() {
        return List.of(LAUNCHER.toString());
    }

    public void write(String path, String content) {
        try {
            Files.createDirectories(root.resolve(path).getParent());
            Files.writeString(root.resolve(path), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String read(String path) {
        try {
            return Files.readString(root.resolve(path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The branch HEAD is on. */
    public String branch() {
        try (Git git = Git.open(root.toFile())) {
            return git.getRepository().getBranch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every ref and the commit it points to, to prove that a refused command changed nothing in Git. */
    public String refs() {
        try (Git git = Git.open(root.toFile())) {
            StringBuilder sb = new StringBuilder("HEAD -> " + git.getRepository().getFullBranch() + "\n");
            for (var ref : git.getRepository().getRefDatabase().getRefs()) {
                sb.append(ref.getName()).append(' ').append(ref.getObjectId().name()).append('\n');
            }
            return sb.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void commit(String message) {
        try (Git git = Git.open(root.toFile())) {
            commitAll(git, message);
        } catch (IOException | org.eclipse.jgit.api.errors.GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    private void commitAll(Git git, String message) throws org.eclipse.jgit.api.errors.GitAPIException {
        git.add().addFilepattern(".").call();
        git.add().addFilepattern(".").setUpdate(true).call();
        git.commit().setMessage(message).setAuthor("Kiln Tests", "tests@kiln.dev")
                .setCommitter("Kiln Tests", "tests@kiln.dev").setSign(false).call();
    }

    /** Removes a file or folder of the test project (and everything below it). */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every path under {@code dir} with file contents as SHA-256 and links as their target. */
    public static String treeDigest(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return "(absent)";
        }
        StringBuilder tree = new StringBuilder();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                tree.append(dir.relativize(p)).append(' ');
                if (Files.isSymbolicLink(p)) {
                    tree.append("-> ").append(Files.readSymbolicLink(p));
                } else if (Files.isRegularFile(p)) {
                    tree.append(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
                }
                tree.append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return tree.toString();
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
