package dev.kiln.container;

import dev.kiln.KilnException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Debian mirror this host's apt already uses. The base image comes from the same mirror, so
 * Kiln never names a mirror of its own and works wherever apt works (proxies, snapshots, local mirrors).
 */
public record AptMirror(String uri) {

    static final Path DEB822 = Path.of("/etc/apt/sources.list.d/debian.sources");
    static final Path ONE_LINE = Path.of("/etc/apt/sources.list");

    /** Reads the mirror for {@code suite} from this host's apt configuration. */
    public static AptMirror forSuite(String suite) {
        try {
            if (Files.isRegularFile(DEB822)) {
                Optional<AptMirror> m = fromDeb822(Files.readString(DEB822), suite);
                if (m.isPresent()) {
                    return m.get();
                }
            }
            if (Files.isRegularFile(ONE_LINE)) {
                Optional<AptMirror> m = fromSourcesList(Files.readString(ONE_LINE), suite);
                if (m.isPresent()) {
                    return m.get();
                }
            }
        } catch (IOException e) {
            throw new KilnException(KilnException.ENVIRONMENT, "Could not read apt sources: " + e.getMessage(), e);
        }
        throw new KilnException(KilnException.ENVIRONMENT, "No apt source for suite " + suite + " in " + DEB822 + " or "
                + ONE_LINE + ": add one (Types: deb, URIs: <mirror>, Suites: " + suite + ")");
    }

    /** The first deb822 stanza whose Suites include {@code suite}: its first URI. */
    static Optional<AptMirror> fromDeb822(String text, String suite) {
        for (Map<String, String> stanza : stanzas(text)) {
            List<String> types = words(stanza.get("types"));
            List<String> suites = words(stanza.get("suites"));
            List<String> uris = words(stanza.get("uris"));
            if ((types.isEmpty() || types.contains("deb")) && suites.contains(suite) && !uris.isEmpty()) {
                return Optional.of(new AptMirror(uris.getFirst()));
            }
        }
        return Optional.empty();
    }

    /** The first one-line {@code deb [options] uri suite components} entry for {@code suite}. */
    static Optional<AptMirror> fromSourcesList(String text, String suite) {
        for (String raw : text.split("\n")) {
            String line = raw.replaceAll("#.*", "").trim();
            // Options in brackets may contain spaces; drop them before splitting.
            line = line.replaceAll("\\[[^]]*]", " ").trim();
            List<String> w = words(line);
            if (w.size() >= 3 && w.get(0).equals("deb") && w.get(2).equals(suite)) {
                return Optional.of(new AptMirror(w.get(1)));
            }
        }
        return Optional.empty();
    }

    /** The mirror's host name, e.g. to prove that a container cannot resolve it. */
    public String hostName() {
        return java.net.URI.create(uri).getHost();
    }

    private static List<Map<String, String>> stanzas(String text) {
        List<Map<String, String>> out = new ArrayList<>();
        Map<String, String> current = new HashMap<>();
        String lastKey = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            if (line.isBlank()) {
                if (!current.isEmpty()) {
                    out.add(current);
                }
                current = new HashMap<>();
                lastKey = null;
            } else if (Character.isWhitespace(line.charAt(0)) && lastKey != null) {
                current.merge(lastKey, " " + line.trim(), String::concat);
            } else {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    lastKey = line.substring(0, colon).trim().toLowerCase();
                    current.put(lastKey, line.substring(colon + 1).trim());
                }
            }
        }
        if (!current.isEmpty()) {
            out.add(current);
        }
        return out;
    }

    private static List<String> words(String s) {
        return s == null || s.isBlank() ? List.of() : Arrays.asList(s.trim().split("\\s+"));
    }
}
