package dev.kiln.rpm;

import java.util.Objects;

/**
 * The identity of one RPM: name, epoch ({@code ""} when the package has none), version, release and
 * architecture. Renders as {@code name-[epoch:]version-release.arch}, the form rpm and dnf print.
 */
public record Nevra(String name, String epoch, String version, String release, String arch) {

    public Nevra {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(release, "release");
        Objects.requireNonNull(arch, "arch");
        epoch = epoch == null ? "" : epoch;
    }

    /**
     * Reads the form {@link #toString()} writes: {@code name-[epoch:]version-release.arch}.
     *
     * @throws IllegalArgumentException for text of another form
     */
    public static Nevra parse(String text) {
        int dot = text.lastIndexOf('.');
        int releaseDash = dot < 0 ? -1 : text.lastIndexOf('-', dot);
        int versionDash = releaseDash <= 0 ? -1 : text.lastIndexOf('-', releaseDash - 1);
        if (versionDash <= 0) {
            throw new IllegalArgumentException("not name-version-release.arch: " + text);
        }
        String evr = text.substring(versionDash + 1, releaseDash);
        int colon = evr.indexOf(':');
        return new Nevra(text.substring(0, versionDash), colon < 0 ? "" : evr.substring(0, colon), evr.substring(colon + 1),
                text.substring(releaseDash + 1, dot), text.substring(dot + 1));
    }

    @Override
    public String toString() {
        return name + "-" + (epoch.isEmpty() ? "" : epoch + ":") + version + "-" + release + "." + arch;
    }
}
