package dev.kiln.specfile;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The shared corpus of real spec files (../shared/spec-corpus next to the project). It is read,
 * never copied into the project and never written; tests that need it are skipped when absent.
 */
final class SpecCorpus {

    static final Path ROOT = Path.of(System.getenv().getOrDefault("KILN_PROJECT_ROOT", ".."))
            .resolve("../shared/spec-corpus").toAbsolutePath().normalize();

    private SpecCorpus() {
    }

    static boolean present() {
        return Files.isDirectory(ROOT.resolve("specs"));
    }

    static void assumePresent() {
        assumeTrue(present(), "spec corpus not found at " + ROOT + " (set KILN_PROJECT_ROOT); skipping corpus tests");
    }

    /** Corpus file names, sorted; empty when the corpus is absent (the tests then skip). */
    static List<String> names() {
        if (!present()) {
            return List.of("(corpus absent)");
        }
        try (Stream<Path> files = Files.list(ROOT.resolve("specs"))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".spec")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path path(String name) {
        return ROOT.resolve("specs").resolve(name);
    }

    static String read(String name) {
        try {
            return new String(Files.readAllBytes(path(name)), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
