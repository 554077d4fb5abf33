package dev.kiln.repo;

import dev.kiln.KilnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The build keys recorded in a repository's provenance documents, read from the JSON files alone.
 * The key sits at {@code predicate.buildDefinition.internalParameters.buildKey}, where {@code dev.kiln.pipeline.Provenance}
 * writes it; this package reads the document without depending on the one that writes it.
 *
 * @param snapshot what the keys were read for (the live metadata folder), to tell when they are stale
 * @param rpmsByKey build key to RPM paths relative to the repository ({@code Packages/x.rpm}), sorted
 */
record PublishedBuilds(Path snapshot, Map<String, List<String>> rpmsByKey) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static PublishedBuilds read(Path snapshot, List<String> folders) {
        Map<String, List<String>> byKey = new TreeMap<>();
        for (String folder : folders) {
            Path dir = snapshot.resolve(folder);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.sorted().toList()) {
                    String name = file.getFileName().toString();
                    if (name.startsWith(".") || !name.endsWith(DirectoryRepository.PROVENANCE_SUFFIX)) {
                        continue;
                    }
                    String key = readBuildKey(Files.readAllBytes(file), name);
                    if (key != null) {
                        String rpm = name.substring(0, name.length() - DirectoryRepository.PROVENANCE_SUFFIX.length());
                        byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(folder + "/" + rpm);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read provenance in " + dir, e);
            }
        }
        byKey.replaceAll((k, v) -> List.copyOf(v));
        return new PublishedBuilds(snapshot, Map.copyOf(byKey));
    }

    /**
     * The build key of a provenance document, or null when it records none.
     *
     * @throws KilnException BAD_INPUT when the document is not a JSON object
     */
    static String readBuildKey(byte[] json, String name) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new KilnException(KilnException.BAD_INPUT, "provenance " + name + " is not JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw KilnException.badInput("provenance " + name + " is not a JSON object");
        }
        JsonNode key = root.at("/predicate/buildDefinition/internalParameters/buildKey");
        return key.isString() ? key.asString() : null;
    }
}
