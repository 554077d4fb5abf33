package dev.kiln.container;

import dev.kiln.KilnException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code containers/<name>/image.lock}: what a builder image was when it was pinned. Debootstrap
 * output differs byte for byte between machines, so besides the image id the lock holds the
 * toolchain digest (installed packages + build context), which a local rebuild can match.
 */
public record ImageLock(String name, String image, String toolchain, String context, String base, String provides) {

    /** The lock that pins {@code pinned}. */
    public static ImageLock of(PinnedImage pinned) {
        return new ImageLock(pinned.name(), pinned.imageId(), pinned.toolchainDigest(), pinned.contextDigest(),
                pinned.baseImage(), pinned.providesDigest());
    }

    public static ImageLock parse(String text, String fileName) {
        Map<String, String> values = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw KilnException.badInput(fileName + " line " + (i + 1) + " is not `key: value`: run ./kiln image build to rewrite it");
            }
            values.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
        }
        for (String key : new String[] {"name", "image", "toolchain", "context"}) {
            if (!values.containsKey(key)) {
                throw KilnException.badInput(fileName + " has no `" + key + ":` line: run ./kiln image build "
                        + values.getOrDefault("name", "<name>") + " to rewrite it");
            }
        }
        return new ImageLock(values.get("name"), values.get("image"), values.get("toolchain"), values.get("context"),
                values.get("base"), values.get("provides"));
    }

    public String render() {
        StringBuilder s = new StringBuilder()
                .append("# Written by ./kiln image build ").append(name).append(". Commit this file:\n")
                .append("# every package build checks its builder image against it and refuses a different one.\n")
                .append("name: ").append(name).append('\n')
                .append("image: ").append(image).append('\n')
                .append("toolchain: ").append(toolchain).append('\n')
                .append("context: ").append(context).append('\n');
        if (base != null) {
            s.append("base: ").append(base).append('\n');
        }
        if (provides != null) {
            s.append("provides: ").append(provides).append('\n');
        }
        return s.toString();
    }
}
