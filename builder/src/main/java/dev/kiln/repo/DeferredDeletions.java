package dev.kiln.repo;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Files a prune took out of a target's metadata but left in place, each with when the metadata
 * stopped naming it: a client that fetched the replaced {@code repomd.xml} a moment earlier still
 * downloads them. The next publish or prune once the target's metadata grace has passed deletes
 * them. The record is one line per file ({@code <instant> <path>}), as {@link RetainedMetadata}
 * records metadata files; a directory and a WebDAV target each keep it in a file of their own.
 *
 * @param since path ({@code Packages/x.rpm}, {@code SRPMS/x.src.rpm}, provenance beside them) to
 *     when it left the metadata
 */
public record DeferredDeletions(Map<String, Instant> since) {

    public static final DeferredDeletions NONE = new DeferredDeletions(Map.of());
    /** Only the two package folders, one plain file name deep: a record cannot send a DELETE anywhere else. */
    private static final Pattern PATH = Pattern.compile("(Packages|SRPMS)/[A-Za-z0-9][A-Za-z0-9._+~^-]*");

    public DeferredDeletions {
        since = Map.copyOf(new TreeMap<>(since));
    }

    public static boolean deletable(String path) {
        return PATH.matcher(path).matches() && !path.contains("..");
    }

    /** With {@code paths} left out of the metadata at {@code now}; a path recorded earlier keeps its earlier time. */
    public DeferredDeletions with(Collection<String> paths, Instant now) {
        Map<String, Instant> next = new TreeMap<>(since);
        paths.stream().filter(DeferredDeletions::deletable).forEach(p -> next.putIfAbsent(p, now));
        return new DeferredDeletions(next);
    }

    /** The paths whose grace has passed at {@code now}. */
    public List<String> due(Instant now, Duration grace) {
        Instant cutoff = now.minus(grace);
        return since.entrySet().stream().filter(e -> !e.getValue().isAfter(cutoff)).map(Map.Entry::getKey).toList();
    }

    public DeferredDeletions without(Collection<String> paths) {
        Map<String, Instant> next = new TreeMap<>(since);
        next.keySet().removeAll(paths);
        return new DeferredDeletions(next);
    }

    public String render() {
        StringBuilder sb = new StringBuilder();
        since.forEach((path, at) -> sb.append(at).append(' ').append(path).append('\n'));
        return sb.toString();
    }

    /** Reads what {@link #render()} wrote; a line that does not parse is skipped (its file stays: disk only). */
    public static DeferredDeletions parse(String text) {
        Map<String, Instant> entries = new TreeMap<>();
        for (String line : text.split("\n")) {
            int space = line.indexOf(' ');
            if (space < 0 || !deletable(line.substring(space + 1))) {
                continue;
            }
            try {
                entries.put(line.substring(space + 1), Instant.parse(line.substring(0, space)));
            } catch (DateTimeParseException e) {
                // skipped, see above
            }
        }
        return new DeferredDeletions(entries);
    }
}
