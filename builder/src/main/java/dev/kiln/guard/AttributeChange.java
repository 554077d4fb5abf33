package dev.kiln.guard;

/**
 * A path both releases install whose type, permissions, owner, group, link target or
 * {@code %config}/{@code %ghost} marking changed; {@code before} and {@code after} read like
 * {@code 0644 root:root} or {@code 0777 root:root -> bin/tool %config}.
 */
public record AttributeChange(String path, String before, String after) {

    @Override
    public String toString() {
        return path + ": " + before + " -> " + after;
    }
}
