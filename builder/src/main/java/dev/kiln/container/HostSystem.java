package dev.kiln.container;

import dev.kiln.KilnException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** The machine Kiln runs on: who we are, which distribution, and running its tools (apt-get, debootstrap). */
final class HostSystem {

    private HostSystem() {
    }

    static boolean isRoot() {
        try {
            // The owner of /proc/self is our effective uid; no native call needed.
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    static boolean isRootOnDebian() {
        return isRoot() && isDebianLike(readOsRelease(Path.of("/etc/os-release")));
    }

    static boolean isDebianLike(Map<String, String> osRelease) {
        String id = osRelease.getOrDefault("ID", "");
        List<String> like = Arrays.asList(osRelease.getOrDefault("ID_LIKE", "").split("\\s+"));
        return id.equals("debian") || id.equals("ubuntu") || like.contains("debian") || like.contains("ubuntu");
    }

    static Map<String, String> readOsRelease(Path file) {
        Map<String, String> values = new HashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    values.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim().replaceAll("^[\"']|[\"']$", ""));
                }
            }
        } catch (IOException e) {
            // No os-release: not a distribution we know how to provision.
        }
        return values;
    }

    static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        // Root's tools live in sbin, which a non-login PATH may lack.
        return Stream.concat(Arrays.stream(path.split(":")), Stream.of("/usr/sbin", "/sbin", "/usr/local/sbin"))
                .map(dir -> Path.of(dir, program))
                .anyMatch(Files::isExecutable);
    }

    /** Installs a Debian package; refreshes the package lists first when they are empty or the install fails. */
    static void aptInstall(String pkg, Consumer<String> log) {
        if (!isRootOnDebian()) {
            throw new KilnException(KilnException.ENVIRONMENT,
                    pkg + " is not installed: install it with `sudo apt-get install -y " + pkg + "`");
        }
        if (listsEmpty()) {
            run(List.of("apt-get", "update"), log);
        }
        List<String> install = List.of("apt-get", "install", "-y", "--no-install-recommends", pkg);
        if (run(install, log) != 0) {
            run(List.of("apt-get", "update"), log);
            if (run(install, log) != 0) {
                throw new KilnException(KilnException.ENVIRONMENT,
                        "apt-get install " + pkg + " failed: run `sudo apt-get update && sudo apt-get install -y " + pkg + "` and read its errors");
            }
        }
    }

    private static boolean listsEmpty() {
        try (Stream<Path> files = Files.list(Path.of("/var/lib/apt/lists"))) {
            return files.noneMatch(p -> p.getFileName().toString().endsWith("_Packages"));
        } catch (IOException e) {
            return true;
        }
    }

    /** Runs a command, streaming its merged output line by line; returns the exit code. */
    static int run(List<String> command, Consumer<String> log) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            pb.environment().merge("PATH", ":/usr/sbin:/sbin", String::concat);
            Process p = pb.start();
            p.getOutputStream().close();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    log.accept(line);
                }
            }
            return p.waitFor();
        } catch (IOException e) {
            throw new KilnException(KilnException.ENVIRONMENT, "Could not run " + command.getFirst() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KilnException(KilnException.BUILD_FAILED, "Interrupted while running " + command.getFirst());
        }
    }
}
