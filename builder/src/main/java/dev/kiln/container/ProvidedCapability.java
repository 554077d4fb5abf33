package dev.kiln.container;

import java.util.ArrayList;
import java.util.List;

/** One capability a builder image offers to BuildRequires: {@code name} or {@code name = version}. */
public record ProvidedCapability(String name, String version) {

    /** Parses a {@code provides} file: one capability per line, {@code #} starts a comment, blank lines ignored. */
    public static List<ProvidedCapability> parse(String text, String fileName) {
        List<ProvidedCapability> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].replaceAll("#.*", "").trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split("\\s*=\\s*", -1);
            if (parts.length == 1 && !line.contains(" ")) {
                out.add(new ProvidedCapability(line, null));
            } else if (parts.length == 2 && !parts[0].isEmpty() && !parts[0].contains(" ")
                    && !parts[1].isEmpty() && !parts[1].contains(" ")) {
                out.add(new ProvidedCapability(parts[0], parts[1]));
            } else {
                throw dev.kiln.KilnException.badInput(fileName + " line " + (i + 1) + ": `" + line
                        + "` is not a capability: write `name` or `name = version`, one per line");
            }
        }
        return List.copyOf(out);
    }

    @Override
    public String toString() {
        return version == null ? name : name + " = " + version;
    }
}
