package dev.kiln.specfile;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The macros a builder's rpm defines (its macro files, {@code containers/<builder>/macros} included)
 * and its {@code %dist}, as its own rpm reported them; used to tell a macro nobody defines from
 * one the spec misuses.
 */
public record BuilderMacros(String builder, String dist, Set<String> defined) {

    public BuilderMacros {
        dist = dist == null ? "" : dist.strip();
        defined = Set.copyOf(defined);
    }

    private record Origin(String prefix, String from) {
    }

    // Where the macros real specs use without defining them usually come from.
    private static final List<Origin> ORIGINS = List.of(
            new Origin("autorelease", "rpmautospec"),
            new Origin("autochangelog", "rpmautospec"),
            new Origin("py", "python-rpm-macros"),
            new Origin("python", "python-rpm-macros"),
            new Origin("pyproject", "pyproject-rpm-macros"),
            new Origin("font", "fonts-rpm-macros"),
            new Origin("go", "go-rpm-macros"),
            new Origin("forge", "forge-srpm-macros"),
            new Origin("cmake", "cmake-rpm-macros"),
            new Origin("meson", "meson's rpm macros"),
            new Origin("ninja", "ninja-build's rpm macros"),
            new Origin("mklibname", "OpenMandriva's rpm-setup"),
            new Origin("rhel", "the distribution's release macros (redhat-release)"),
            new Origin("fedora", "the distribution's release macros (fedora-release)"),
            new Origin("amzn", "the distribution's release macros (system-release)"),
            new Origin("suse_version", "the distribution's release macros (openSUSE's rpm-config-SUSE)"));

    public String macrosFile() {
        return "containers/" + builder + "/macros";
    }

    public boolean defines(String macro) {
        return defined.contains(macro);
    }

    /**
     * The refusal for a macro this builder does not define, with where it usually comes from:
     * {@code %fontpkgname0 is not defined in builder rpm-builder (it usually comes from fonts-rpm-macros):
     * install its macro package in containers/rpm-builder/Dockerfile, or define it in containers/rpm-builder/macros}.
     */
    public String undefined(String macro) {
        String lower = macro.toLowerCase(Locale.ROOT);
        String from = ORIGINS.stream().filter(o -> lower.startsWith(o.prefix())).map(Origin::from).findFirst()
                .map(f -> " (it usually comes from " + f + ")").orElse("");
        return "%" + macro + " is not defined in builder " + builder + from + ": install its macro package in containers/"
                + builder + "/Dockerfile, or define it in " + macrosFile();
    }
}
