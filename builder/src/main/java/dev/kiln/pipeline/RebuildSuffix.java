package dev.kiln.pipeline;

import dev.kiln.rpm.RpmFile;
import dev.kiln.specfile.EvaluatedSpec;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A published release is never overwritten, yet a package must be rebuilt when a build
 * dependency changed (or its spec changed without a new Release). Like a build service's rebuild
 * counter, Kiln then defines {@code %dist} as the builder's own {@code %dist} followed by
 * {@code .rbN}: {@code Release: 1%{?dist}} becomes {@code 1.el9.rb1}, {@code 1.el9.rb2}, ... (or
 * {@code 1.rb1} where the builder has no {@code %dist}), newer than the published release, so dnf
 * upgrades to it, and still telling which distribution it is for.
 */
final class RebuildSuffix {

    private static final Pattern SUFFIX = Pattern.compile("\\.rb(\\d+)");

    private RebuildSuffix() {
    }

    /**
     * The {@code %dist} to define, or null when the spec's release is not published yet.
     * {@code builderDist} is the builder's {@code %dist} ("" when it has none); the spec's release
     * as rpm read it already holds it.
     */
    static String forBuild(EvaluatedSpec spec, List<RpmFile> published, String builderDist) {
        String release = spec.release();
        int highest = -1;
        for (RpmFile rpm : published) {
            if (rpm.source() || !spec.name().equals(rpm.sourceName()) || !spec.version().equals(rpm.nevra().version())) {
                continue;
            }
            highest = Math.max(highest, rebuildOf(rpm.nevra().release(), release));
        }
        return highest < 0 ? null : builderDist + ".rb" + (highest + 1);
    }

    /** The release rpm gives the spec with {@code %dist} defined as {@code dist}, for messages. */
    static String release(String release, String builderDist, String dist) {
        int at = builderDist.isEmpty() ? -1 : release.lastIndexOf(builderDist);
        return at < 0 ? release + dist : release.substring(0, at) + dist + release.substring(at + builderDist.length());
    }

    /**
     * Which rebuild of {@code release} a published release is: 0 for the release itself, N when
     * it is the release with one {@code .rbN} added (where %dist sits, which can be inside it, as
     * in {@code 1%{?dist}.alma}), -1 when it is neither.
     */
    private static int rebuildOf(String published, String release) {
        if (published.equals(release)) {
            return 0;
        }
        Matcher m = SUFFIX.matcher(published);
        int highest = -1;
        while (m.find()) {
            if ((published.substring(0, m.start()) + published.substring(m.end())).equals(release)) {
                highest = Math.max(highest, Integer.parseInt(m.group(1)));
            }
        }
        return highest;
    }
}
