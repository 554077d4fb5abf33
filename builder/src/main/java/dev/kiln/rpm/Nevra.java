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

    @Override
    public String toString() {
        return name + "-" + (epoch.isEmpty() ? "" : epoch + ":") + version + "-" + release + "." + arch;
    }
}
