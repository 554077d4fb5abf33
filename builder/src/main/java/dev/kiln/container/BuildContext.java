package dev.kiln.container;

import dev.kiln.KilnException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The files of {@code containers/<name>/} that make a builder image: Dockerfile, {@code provides}
 * and whatever they copy. The lock file is not part of it, so writing the lock leaves the digest alone.
 */
public record BuildContext(String name, Map<String, byte[]> files) {

    public static final String LOCK_FILE = "image.lock";
    public static final String BASE_ARG = "KILN_BASE";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");
    private static final Pattern DIGEST_PINNED = Pattern.compile("[^\\s@]+@sha256:[0-9a-f]{64}");

    public BuildContext {
        if (!NAME.matcher(name).matches()) {
            throw KilnException.badInput("Builder name " + name + " is not valid: use lower-case letters, digits, '.', '_' or '-'");
        }
        TreeMap<String, byte[]> copy = new TreeMap<>(files);
        copy.remove(LOCK_FILE);
        files = java.util.Collections.unmodifiableSortedMap(copy);
        if (!files.containsKey("Dockerfile")) {
            throw KilnException.badInput("containers/" + name + "/Dockerfile is missing: every builder needs one");
        }
    }

    /** Reads every regular file below {@code dir} (e.g. {@code containers/rpm-builder}). */
    public static BuildContext read(Path dir) {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        } catch (IOException e) {
            throw KilnException.badInput("Cannot read builder folder " + dir + ": " + e.getMessage());
        }
        return new BuildContext(dir.getFileName().toString(), files);
    }

    /** Where the user finds these files, for messages. */
    public String path(String file) {
        return "containers/" + name + "/" + file;
    }

    /** sha256 over the sorted file names and their bytes. */
    public String digest() {
        MessageDigest sha = sha256();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            byte[] n = f.getKey().getBytes(StandardCharsets.UTF_8);
            // Lengths first: no two different contexts can produce the same byte sequence.
            sha.update((n.length + ":").getBytes(StandardCharsets.UTF_8));
            sha.update(n);
            sha.update((":" + f.getValue().length + ":").getBytes(StandardCharsets.UTF_8));
            sha.update(f.getValue());
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    /** The capabilities listed in {@code provides}; empty when the file is absent. */
    public List<ProvidedCapability> provides() {
        byte[] bytes = files.get("provides");
        return bytes == null ? List.of() : ProvidedCapability.parse(new String(bytes, StandardCharsets.UTF_8), path("provides"));
    }

    /**
     * Refuses any FROM that could change under us: only {@code FROM ${KILN_BASE}} (the local
     * bootstrap image, by id), {@code FROM name@sha256:<digest>}, an earlier stage, or scratch.
     * Returns whether the Dockerfile uses KILN_BASE.
     */
    public boolean checkFromLines() {
        String text = new String(files.get("Dockerfile"), StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1);
        Set<String> stages = new HashSet<>();
        boolean usesBase = false;
        Pattern from = Pattern.compile("(?i)^\\s*FROM\\s+(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?\\s*$");
        boolean continued = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            boolean wasContinued = continued;
            continued = line.stripTrailing().endsWith("\\");
            if (wasContinued) {
                continue; // continuation of a RUN or similar, never a FROM
            }
            if (!line.trim().toUpperCase(java.util.Locale.ROOT).startsWith("FROM")) {
                continue;
            }
            Matcher m = from.matcher(line.replace("\r", ""));
            if (!m.matches()) {
                continue;
            }
            String image = m.group(1);
            if (image.equals("${" + BASE_ARG + "}") || image.equals("$" + BASE_ARG)) {
                usesBase = true;
            } else if (!DIGEST_PINNED.matcher(image).matches() && !stages.contains(image.toLowerCase(java.util.Locale.ROOT))
                    && !image.equals("scratch")) {
                throw KilnException.badInput(path("Dockerfile") + " line " + (i + 1) + ": FROM " + image
                        + " is not pinned: use FROM name@sha256:<digest> or FROM ${" + BASE_ARG + "}");
            }
            if (m.group(2) != null) {
                stages.add(m.group(2).toLowerCase(java.util.Locale.ROOT));
            }
        }
        return usesBase;
    }

    static MessageDigest sha256() {
        return dev.kiln.Sha256.digest();
    }
}
