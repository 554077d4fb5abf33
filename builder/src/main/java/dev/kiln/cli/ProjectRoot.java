package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The packaging repository Kiln works on: {@code KILN_PROJECT_ROOT} when set (the launcher sets
 * it), else the nearest folder upwards from the current one that holds kiln.yaml or specs/.
 */
final class ProjectRoot {

    private ProjectRoot() {
    }

    static Path find() {
        String fromEnv = System.getenv("KILN_PROJECT_ROOT");
        if (fromEnv != null && !fromEnv.isBlank()) {
            Path root = Path.of(fromEnv).toAbsolutePath().normalize();
            if (!Files.isDirectory(root)) {
                throw KilnException.badInput("KILN_PROJECT_ROOT " + root + " is not a folder");
            }
            return root;
        }
        Path cwd = Path.of("").toAbsolutePath();
        for (Path p = cwd; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(ConfigLoader.FILE_NAME)) || Files.isDirectory(p.resolve("specs"))) {
                return p;
            }
        }
        return cwd;
    }
}
