package dev.kiln.source;

import dev.kiln.KilnException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A package's {@code sources} file in the Fedora dist-git format, one remote source per line:
 * {@code SHA512 (file) = hex}.
 */
public record SourcesFile(String path, List<Entry> entries) {

    private static final Pattern LINE = Pattern.compile("^SHA512 \\((.+)\\) = ([0-9a-fA-F]{128})$");

    /** One remote source and its expected SHA-512. */
    public record Entry(String fileName, String sha512, int line) {
    }

    public static SourcesFile parse(String path, String text) {
        List<Entry> entries = new ArrayList<>();
        String[] lines = text.split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                throw KilnException.badInput(path + ":" + (i + 1) + ": expected 'SHA512 (file) = <128 hex digits>', found '"
                        + line + "'");
            }
            entries.add(new Entry(m.group(1), m.group(2).toLowerCase(), i + 1));
        }
        return new SourcesFile(path, List.copyOf(entries));
    }

    public static SourcesFile empty(String path) {
        return new SourcesFile(path, List.of());
    }

    /** The file's text with {@code remove} dropped and {@code add} appended, other lines kept as they were. */
    public static String rewrite(String text, java.util.Set<String> remove, List<Entry> add) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\r?\n")) {
            Matcher m = LINE.matcher(line.strip());
            if (line.isEmpty() || (m.matches() && remove.contains(m.group(1)))) {
                continue;
            }
            out.append(line).append('\n');
        }
        for (Entry e : add) {
            out.append("SHA512 (").append(e.fileName()).append(") = ").append(e.sha512()).append('\n');
        }
        return out.toString();
    }

    public Optional<Entry> find(String fileName) {
        return entries.stream().filter(e -> e.fileName().equals(fileName)).findFirst();
    }
}
