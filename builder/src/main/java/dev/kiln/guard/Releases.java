package dev.kiln.guard;

import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.RpmVersion;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Finds the released build a candidate is compared with, among the binary RPMs a repository holds. */
public final class Releases {

    /** rpm's order of two packages: epoch numerically (missing is 0), then version, then release with rpmvercmp. */
    public static final Comparator<RpmFile> BY_EVR = (a, b) -> {
        int c = Long.compare(epoch(a), epoch(b));
        if (c == 0) {
            c = RpmVersion.compare(a.nevra().version(), b.nevra().version());
        }
        return c != 0 ? c : RpmVersion.compare(a.nevra().release(), b.nevra().release());
    };

    private Releases() {
    }

    /**
     * The latest build of {@code sourceName} among {@code published}: every binary package of the
     * source RPM whose EVR is highest, main package and subpackages together. Empty when the
     * repository holds no binary package built from that source.
     *
     * <p>Taking the latest build as a whole, rather than the latest of each package name, keeps a
     * subpackage dropped two releases ago from being compared forever.
     */
    public static List<RpmFile> latest(List<RpmFile> published, String sourceName) {
        Map<String, List<RpmFile>> builds = new LinkedHashMap<>();
        for (RpmFile rpm : published) {
            if (!rpm.source() && rpm.sourceName().equals(sourceName)) {
                builds.computeIfAbsent(rpm.sourceRpm(), k -> new ArrayList<>()).add(rpm);
            }
        }
        return builds.values().stream()
                .max(Comparator.comparing(build -> representative(build, sourceName), BY_EVR))
                .map(List::copyOf)
                .orElse(List.of());
    }

    /** For each binary package name in {@code published}, the package with the highest EVR. */
    public static Map<String, RpmFile> latestByName(List<RpmFile> published) {
        Map<String, RpmFile> latest = new TreeMap<>();
        for (RpmFile rpm : published) {
            if (!rpm.source()) {
                latest.merge(rpm.nevra().name(), rpm, (a, b) -> BY_EVR.compare(a, b) >= 0 ? a : b);
            }
        }
        return latest;
    }

    /** The package named like the source stands for its build; subpackages may carry their own version. */
    private static RpmFile representative(List<RpmFile> build, String sourceName) {
        return build.stream().filter(r -> r.nevra().name().equals(sourceName)).findFirst()
                .orElseGet(() -> build.stream().max(BY_EVR).orElseThrow());
    }

    private static long epoch(RpmFile rpm) {
        String epoch = rpm.nevra().epoch();
        return epoch.isEmpty() ? 0 : Long.parseLong(epoch);
    }
}
