package dev.kiln.pipeline;

import dev.kiln.rpm.RpmFile;
import dev.kiln.specfile.SpecFile;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A published release is never overwritten, yet a package must be rebuilt when a build
 * dependency changed (or its spec changed without a new Release). Like a build service's rebuild
 * counter, Kiln then defines {@code %dist} as {@code .rbN}, so {@code Release: 1%{?dist}} becomes
 * {@code 1.rb1}, {@code 1.rb2}, ...: newer than the published release, so dnf upgrades to it.
 */
final class RebuildSuffix {

    private static final Pattern SUFFIX = Pattern.compile("\\.rb(\\d+)$");

    private RebuildSuffix() {
    }

    /** The {@code %dist} to define, or null when the spec's release is not published yet. */
    static String forBuild(SpecFile spec, List<RpmFile> published) {
        String release = spec.release();
        int highest = -1;
        for (RpmFile rpm : published) {
            if (rpm.source() || !spec.name().equals(rpm.sourceName()) || !spec.version().equals(rpm.nevra().version())) {
                continue;
            }
            String r = rpm.nevra().release();
            if (r.equals(release)) {
                highest = Math.max(highest, 0);
            } else if (r.startsWith(release)) {
                Matcher m = SUFFIX.matcher(r.substring(release.length()));
                if (m.matches()) {
                    highest = Math.max(highest, Integer.parseInt(m.group(1)));
                }
            }
        }
        return highest < 0 ? null : ".rb" + (highest + 1);
    }
}
