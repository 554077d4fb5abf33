package dev.kiln.container;

import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.kiln.KilnException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The base image of Kiln's builders, made on this machine with debootstrap from the host's own apt
 * mirror and imported into the engine as {@code kiln/base:<suite>}. No registry is needed.
 */
public final class BaseImage {

    public static final String REPOSITORY = "kiln/base";

    private BaseImage() {
    }

    /** The image id of {@code kiln/base:<suite>} if the engine has it. */
    public static Optional<String> find(DockerEngine engine, String suite) {
        try {
            InspectImageResponse image = engine.client().inspectImageCmd(REPOSITORY + ":" + suite).exec();
            return Optional.ofNullable(image.getId());
        } catch (NotFoundException e) {
            return Optional.empty();
        }
    }

    /**
     * Runs {@code debootstrap --variant=minbase} into a folder under {@code workDir}, imports the
     * tree as {@code kiln/base:<suite>} and returns the image id. The folder is removed afterwards.
     */
    public static String bootstrap(DockerEngine engine, String suite, Path workDir, Consumer<String> log) {
        if (!suite.matches("[a-z][a-z0-9-]*")) {
            throw KilnException.badInput("Suite " + suite + " is not a Debian suite name: use e.g. bookworm");
        }
        if (!HostSystem.isRoot()) {
            throw KilnException.environment("debootstrap needs root: run `sudo ./kiln image bootstrap " + suite + "`");
        }
        if (!HostSystem.onPath("debootstrap")) {
            log.accept("debootstrap is not installed: installing it with apt-get ...");
            HostSystem.aptInstall("debootstrap", log);
        }
        AptMirror mirror = AptMirror.forSuite(suite);
        Path root;
        try {
            Files.createDirectories(workDir);
            root = Files.createTempDirectory(workDir, "rootfs-" + suite + "-");
        } catch (IOException e) {
            throw KilnException.environment("Cannot create a folder under " + workDir + ": " + e.getMessage());
        }
        try {
            log.accept("Start: debootstrap --variant=minbase " + suite + " from " + mirror.uri());
            long t0 = System.nanoTime();
            int rc = HostSystem.run(List.of("debootstrap", "--variant=minbase", suite, root.toString(), mirror.uri()), log);
            if (rc != 0) {
                throw KilnException.environment("debootstrap " + suite + " from " + mirror.uri() + " failed (exit " + rc
                        + "): read the lines above, or " + root.resolve("debootstrap/debootstrap.log"));
            }
            log.accept("Finish: debootstrap (" + seconds(t0) + ")");
            log.accept("Start: import " + root + " as " + REPOSITORY + ":" + suite);
            long t1 = System.nanoTime();
            String id = importTree(engine, root, suite);
            log.accept("Finish: import " + id + " (" + seconds(t1) + ")");
            return id;
        } finally {
            // The tree holds device nodes and root-owned files; rm handles them all.
            HostSystem.run(List.of("rm", "-rf", "--one-file-system", root.toString()), line -> { });
        }
    }

    private static String importTree(DockerEngine engine, Path root, String suite) {
        // GNU tar keeps owners, modes, links and device nodes exactly; we only pipe its output to the engine.
        ProcessBuilder pb = new ProcessBuilder("tar", "--numeric-owner", "--xattrs", "-C", root.toString(), "-cf", "-", ".")
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        try {
            Process tar = pb.start();
            tar.getOutputStream().close();
            try (InputStream in = tar.getInputStream()) {
                engine.importImage(in, REPOSITORY, suite);
            }
            int rc = tar.waitFor();
            if (rc != 0) {
                throw KilnException.environment("tar of " + root + " failed (exit " + rc + ")");
            }
        } catch (IOException e) {
            throw KilnException.environment("Could not import " + root + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw KilnException.buildFailed("Interrupted while importing the base image");
        }
        return find(engine, suite).orElseThrow(() -> new IllegalStateException(
                "engine accepted the import but has no " + REPOSITORY + ":" + suite));
    }

    private static String seconds(long startNanos) {
        return String.format(java.util.Locale.ROOT, "%.1f s", (System.nanoTime() - startNanos) / 1e9);
    }
}
