package dev.kiln.guard;

import dev.kiln.rpm.Nevra;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The release guard's verdict on a candidate build: whether it blocks the publish, a report for a
 * person ({@link #render()}), and the same content as records for JSON.
 */
public sealed interface GuardReport {

    /** Whether the publish must stop: paths removed or moved, a Provides gone, a subpackage gone. */
    boolean blocks();

    /** One line: {@code release guard: BLOCKED: 3 paths moved, 1 path removed} or {@code release guard: passed: 2 paths added}. */
    String headline();

    /** The headline followed by one section per package that changed. */
    String render();

    /** The candidate has no earlier release in the repository, so there is nothing to compare it with. */
    static GuardReport noEarlierRelease(String sourceName, List<Nevra> candidate) {
        return new NoEarlierRelease(sourceName, candidate);
    }

    /** Passes: the first release of a package cannot break anyone. */
    record NoEarlierRelease(String sourceName, List<Nevra> candidate) implements GuardReport {

        public NoEarlierRelease {
            candidate = List.copyOf(candidate);
        }

        @Override
        public boolean blocks() {
            return false;
        }

        @Override
        public String headline() {
            return "release guard: passed: no earlier release of " + sourceName + " in the repository, nothing to compare";
        }

        @Override
        public String render() {
            return headline() + "\n";
        }
    }

    /** The candidate compared package by package with the latest released build. */
    record Compared(String sourceName, List<PackageChange> packages) implements GuardReport {

        public Compared {
            packages = List.copyOf(packages);
        }

        @Override
        public boolean blocks() {
            return packages.stream().anyMatch(PackageChange::blocks);
        }

        /** Totals over all packages, for the headline and for JSON. */
        public Counts counts() {
            Counts counts = new Counts(0, 0, 0, 0, 0, 0, 0, 0, 0);
            for (PackageChange change : packages) {
                counts = counts.plus(switch (change) {
                    case PackageChange.Added a -> new Counts(0, 0, 0, 0, 0, 1, 0, 0, 0);
                    case PackageChange.Disappeared d -> new Counts(0, 0, 0, 1, 0, 0, 0, 0, 0);
                    case PackageChange.Compared c -> new Counts(
                            c.paths().moved().size(),
                            c.paths().removed().size(),
                            (int) c.dependencies().stream().filter(DependencyChange::blocks).count(),
                            0,
                            c.paths().added().size(),
                            0,
                            c.paths().attributes().size(),
                            (int) c.dependencies().stream().filter(d -> !d.blocks()).count(),
                            c.scriptlets().size());
                });
            }
            return counts;
        }

        @Override
        public String headline() {
            Counts n = counts();
            List<String> parts = new ArrayList<>();
            if (blocks()) {
                count(parts, n.moved(), "path", "moved");
                count(parts, n.removed(), "path", "removed");
                count(parts, n.providesRemoved(), "Provides", "removed");
                count(parts, n.packagesDisappeared(), "package", "disappeared");
                return "release guard: BLOCKED: " + String.join(", ", parts);
            }
            count(parts, n.added(), "path", "added");
            count(parts, n.packagesAdded(), "package", "added");
            count(parts, n.attributesChanged(), "path", "changed owner/mode");
            count(parts, n.dependenciesChanged(), "dependency", "changed");
            count(parts, n.scriptletsChanged(), "scriptlet", "changed");
            return "release guard: passed: " + (parts.isEmpty() ? "no changes" : String.join(", ", parts));
        }

        @Override
        public String render() {
            StringBuilder out = new StringBuilder(headline()).append('\n');
            for (PackageChange change : packages) {
                switch (change) {
                    case PackageChange.Added a -> out.append('\n').append(a.candidate())
                            .append(": new package, ").append(a.paths()).append(" paths\n");
                    case PackageChange.Disappeared d -> out.append('\n').append(d.released())
                            .append(": disappeared from the new build (blocks)\n");
                    case PackageChange.Compared c -> {
                        if (!c.unchanged()) {
                            out.append('\n').append(c.released()).append(" -> ").append(c.candidate()).append('\n');
                            renderSections(out, c);
                        }
                    }
                }
            }
            return out.toString();
        }

        private static void renderSections(StringBuilder out, PackageChange.Compared c) {
            PathChanges paths = c.paths();
            List<Object> moved = new ArrayList<>(paths.folderMoves());
            moved.addAll(paths.moved());
            section(out, "moved (blocks)", moved, Object::toString);
            section(out, "removed (blocks)", paths.removed(), Function.identity());
            section(out, "added", paths.added(), Function.identity());
            section(out, "updated (a newer version of the file in the same folder)", paths.updated(), Object::toString);
            section(out, "owner/mode changed", paths.attributes(), AttributeChange::toString);
            for (DependencyChange.Relation relation : DependencyChange.Relation.values()) {
                for (DependencyChange.Kind kind : DependencyChange.Kind.values()) {
                    List<DependencyChange> matching = c.dependencies().stream()
                            .filter(d -> d.relation() == relation && d.kind() == kind).toList();
                    boolean blocks = matching.stream().anyMatch(DependencyChange::blocks);
                    section(out, relation.label() + " " + kind.name().toLowerCase() + (blocks ? " (blocks)" : ""),
                            matching, DependencyChange::toString);
                }
            }
            for (ScriptletChange s : c.scriptlets()) {
                section(out, "scriptlet %" + s.scriptlet() + " " + s.kind(), s.diff(), Function.identity());
            }
        }

        private static <T> void section(StringBuilder out, String title, List<T> items, Function<T, String> line) {
            if (items.isEmpty()) {
                return;
            }
            out.append("  ").append(title).append(":\n");
            for (T item : items) {
                out.append("    ").append(line.apply(item)).append('\n');
            }
        }

        private static void count(List<String> parts, int n, String noun, String verb) {
            if (n > 0) {
                boolean plural = n != 1 && !noun.equals("Provides");
                String nouns = noun.equals("dependency") && plural ? "dependencies" : plural ? noun + "s" : noun;
                parts.add(n + " " + nouns + " " + verb);
            }
        }
    }

    /** How many of each kind of change the report holds; the first four block. */
    record Counts(int moved, int removed, int providesRemoved, int packagesDisappeared, int added,
            int packagesAdded, int attributesChanged, int dependenciesChanged, int scriptletsChanged) {

        Counts plus(Counts o) {
            return new Counts(moved + o.moved, removed + o.removed, providesRemoved + o.providesRemoved,
                    packagesDisappeared + o.packagesDisappeared, added + o.added, packagesAdded + o.packagesAdded,
                    attributesChanged + o.attributesChanged, dependenciesChanged + o.dependenciesChanged,
                    scriptletsChanged + o.scriptletsChanged);
        }
    }
}
