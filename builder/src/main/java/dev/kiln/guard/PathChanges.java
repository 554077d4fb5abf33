package dev.kiln.guard;

import dev.kiln.rpm.RpmFile;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * How the installed paths of one package differ between two releases. A removed path and an added
 * path with the same file name are paired as a move; {@code added} and {@code removed} hold only the
 * paths no move explains. Directories the package owns are paths like any other.
 */
public record PathChanges(List<PathMove> moved, List<FolderMove> folderMoves, List<String> removed,
        List<String> added, List<AttributeChange> attributes, List<PathMove> updated) {

    /** A folder move is worth a line of its own once it explains more than one path. */
    private static final int FOLDER_MOVE_MIN_PATHS = 2;

    public PathChanges {
        moved = List.copyOf(moved);
        folderMoves = List.copyOf(folderMoves);
        removed = List.copyOf(removed);
        added = List.copyOf(added);
        attributes = List.copyOf(attributes);
        updated = List.copyOf(updated);
    }

    public boolean isEmpty() {
        return moved.isEmpty() && removed.isEmpty() && added.isEmpty() && attributes.isEmpty() && updated.isEmpty();
    }

    /** Moved or removed paths break whoever uses them; additions and attribute changes do not. */
    public boolean blocks() {
        return !moved.isEmpty() || !removed.isEmpty();
    }

    /**
     * Files replaced by a newer version of themselves in the same folder: {@code lib/guava-33.2.1-jre.jar}
     * by {@code lib/guava-33.4.8-jre.jar}. Java and other bundled distributions rename such files on
     * every upstream release; whoever uses them goes through the folder, which stays, so this does
     * not block. Names match when they agree up to the first digit and in their extension.
     */
    static List<PathMove> pairVersionedNames(List<String> removed, List<String> added) {
        Map<String, List<String>> addedByKey = new java.util.TreeMap<>();
        for (String path : added) {
            versionlessKey(path).ifPresent(k -> addedByKey.computeIfAbsent(k, x -> new ArrayList<>()).add(path));
        }
        List<PathMove> pairs = new ArrayList<>();
        for (String path : removed.stream().sorted().toList()) {
            var key = versionlessKey(path);
            if (key.isEmpty()) {
                continue;
            }
            List<String> candidates = addedByKey.get(key.get());
            if (candidates != null && !candidates.isEmpty()) {
                pairs.add(new PathMove(path, candidates.removeFirst()));
            }
        }
        return pairs;
    }

    /** {@code /opt/m/lib/guava-33.2.1-jre.jar} -> {@code /opt/m/lib/guava-*.jar}; empty for names without a version. */
    private static java.util.Optional<String> versionlessKey(String path) {
        int slash = path.lastIndexOf('/');
        String name = path.substring(slash + 1);
        int digit = 0;
        while (digit < name.length() && !Character.isDigit(name.charAt(digit))) {
            digit++;
        }
        int dot = name.lastIndexOf('.');
        if (digit == name.length() || digit == 0 || dot <= digit || name.substring(dot).chars().anyMatch(Character::isDigit)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(path.substring(0, slash + 1) + name.substring(0, digit) + "*" + name.substring(dot));
    }

    public static PathChanges between(List<RpmFile.Entry> released, List<RpmFile.Entry> candidate) {
        Map<String, RpmFile.Entry> before = byPath(released);
        Map<String, RpmFile.Entry> after = byPath(candidate);
        List<String> removed = new ArrayList<>();
        List<AttributeChange> attributes = new ArrayList<>();
        for (var entry : before.entrySet()) {
            RpmFile.Entry now = after.get(entry.getKey());
            if (now == null) {
                removed.add(entry.getKey());
            } else {
                String was = describe(entry.getValue());
                String is = describe(now);
                if (!was.equals(is)) {
                    attributes.add(new AttributeChange(entry.getKey(), was, is));
                }
            }
        }
        List<String> added = new ArrayList<>(after.keySet().stream().filter(p -> !before.containsKey(p)).toList());

        List<PathMove> updated = pairVersionedNames(removed, added);
        updated.forEach(u -> {
            removed.remove(u.from());
            added.remove(u.to());
        });
        List<PathMove> moves = pairByFileName(removed, added);
        Map<List<String>, Integer> folders = folderCounts(moves);
        moves = new ArrayList<>(moves);
        // The moved folder itself has a new name (tool -> tool-2.0), so file-name pairing cannot find it:
        // pair it through the folder move its contents revealed.
        Set<String> pairedFrom = new HashSet<>();
        Set<String> pairedTo = new HashSet<>();
        moves.forEach(m -> {
            pairedFrom.add(m.from());
            pairedTo.add(m.to());
        });
        Set<String> addedSet = new HashSet<>(added);
        for (List<String> folder : List.copyOf(folders.keySet())) {
            String from = folder.get(0);
            String to = folder.get(1);
            if (before.containsKey(from) && !after.containsKey(from) && !pairedFrom.contains(from)
                    && addedSet.contains(to) && !pairedTo.contains(to)) {
                moves.add(new PathMove(from, to));
                pairedFrom.add(from);
                pairedTo.add(to);
                folders.merge(folder, 1, Integer::sum);
            }
        }
        moves.sort(Comparator.comparing(PathMove::from).thenComparing(PathMove::to));
        List<FolderMove> folderMoves = new ArrayList<>();
        folders.forEach((folder, count) -> {
            if (count >= FOLDER_MOVE_MIN_PATHS) {
                folderMoves.add(new FolderMove(folder.get(0), folder.get(1), count));
            }
        });
        folderMoves.sort(Comparator.comparing(FolderMove::from));
        return new PathChanges(moves, folderMoves,
                removed.stream().filter(p -> !pairedFrom.contains(p)).toList(),
                added.stream().filter(p -> !pairedTo.contains(p)).toList(),
                attributes, updated);
    }

    /**
     * Pairs removed and added paths that end in the same file name. Among several candidates the pair
     * sharing the longest run of trailing path components wins, so {@code /opt/maven/lib/x.jar} goes to
     * {@code /opt/apache-maven-3.9.9/lib/x.jar} rather than to another folder's {@code x.jar}.
     */
    private static List<PathMove> pairByFileName(List<String> removed, List<String> added) {
        Map<String, List<String>> addedByName = new HashMap<>();
        for (String path : added) {
            addedByName.computeIfAbsent(fileName(path), k -> new ArrayList<>()).add(path);
        }
        Map<String, List<String>> removedByName = new LinkedHashMap<>();
        for (String path : removed) {
            if (addedByName.containsKey(fileName(path))) {
                removedByName.computeIfAbsent(fileName(path), k -> new ArrayList<>()).add(path);
            }
        }
        List<PathMove> moves = new ArrayList<>();
        removedByName.forEach((name, froms) -> {
            List<String> tos = addedByName.get(name);
            if (froms.size() == 1 && tos.size() == 1) {
                moves.add(new PathMove(froms.getFirst(), tos.getFirst()));
                return;
            }
            froms.sort(null);
            tos.sort(null);
            // Greedy by shared suffix, longest first: at each length, pair paths whose last `length`
            // components are equal. Bucketing by suffix keeps this linear where comparing every pair
            // would be quadratic (a thousand pom.xml files).
            int longest = 0;
            for (String path : froms) {
                longest = Math.max(longest, components(path).length);
            }
            List<String> openFroms = new ArrayList<>(froms);
            Set<String> usedTo = new HashSet<>();
            for (int length = longest; length >= 1 && !openFroms.isEmpty(); length--) {
                Map<String, ArrayDeque<String>> tosBySuffix = new HashMap<>();
                for (String to : tos) {
                    if (!usedTo.contains(to)) {
                        suffix(to, length).ifPresent(key -> tosBySuffix.computeIfAbsent(key, k -> new ArrayDeque<>()).add(to));
                    }
                }
                List<String> stillOpen = new ArrayList<>();
                for (String from : openFroms) {
                    ArrayDeque<String> partners = suffix(from, length).map(tosBySuffix::get).orElse(null);
                    if (partners == null || partners.isEmpty()) {
                        stillOpen.add(from);
                    } else {
                        String to = partners.poll();
                        usedTo.add(to);
                        moves.add(new PathMove(from, to));
                    }
                }
                openFroms = stillOpen;
            }
        });
        return moves;
    }

    /**
     * Counts moves by the folders that differ once the shared trailing components are taken off:
     * {@code /opt/tool/bin/tool -> /opt/tool-2.0/bin/tool} counts for {@code /opt/tool -> /opt/tool-2.0}.
     * Keys are [from, to]; insertion order is kept for a stable report.
     */
    private static Map<List<String>, Integer> folderCounts(List<PathMove> moves) {
        Map<List<String>, Integer> counts = new TreeMap<>(Comparator.comparing((List<String> k) -> k.get(0))
                .thenComparing(k -> k.get(1)));
        for (PathMove move : moves) {
            String[] from = components(move.from());
            String[] to = components(move.to());
            int shared = sharedSuffix(from, to);
            counts.merge(List.of(prefix(from, from.length - shared), prefix(to, to.length - shared)), 1, Integer::sum);
        }
        return counts;
    }

    private static Map<String, RpmFile.Entry> byPath(List<RpmFile.Entry> entries) {
        Map<String, RpmFile.Entry> result = new TreeMap<>();
        for (RpmFile.Entry entry : entries) {
            result.put(entry.path(), entry);
        }
        return result;
    }

    /** What a person would compare in {@code ls -l}: type, permissions, owner, link target, and the markings rpm acts on. */
    private static String describe(RpmFile.Entry entry) {
        StringBuilder text = new StringBuilder();
        text.append(entry.directory() ? "directory " : entry.symlink() ? "symlink " : "")
                .append(String.format("%04o", entry.permissions()))
                .append(' ').append(entry.user()).append(':').append(entry.group());
        if (entry.symlink()) {
            text.append(" -> ").append(entry.linkTo());
        }
        if (entry.config()) {
            text.append(" %config");
        }
        if (entry.ghost()) {
            text.append(" %ghost");
        }
        return text.toString();
    }

    private static String fileName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static String[] components(String path) {
        return path.startsWith("/") ? path.substring(1).split("/") : path.split("/");
    }

    /** The last {@code length} components of {@code path}, or empty when it has fewer. */
    private static Optional<String> suffix(String path, int length) {
        int cut = path.length();
        for (int i = 0; i < length; i++) {
            cut = path.lastIndexOf('/', cut - 1);
            if (cut < 0) {
                return Optional.empty();
            }
        }
        return Optional.of(path.substring(cut));
    }

    private static int sharedSuffix(String[] a, String[] b) {
        int shared = 0;
        while (shared < a.length && shared < b.length && a[a.length - 1 - shared].equals(b[b.length - 1 - shared])) {
            shared++;
        }
        return shared;
    }

    private static String prefix(String[] components, int count) {
        return count == 0 ? "/" : "/" + String.join("/", List.of(components).subList(0, count));
    }
}
