package dev.kiln.guard;

import dev.kiln.KilnException;
import dev.kiln.rpm.RpmFile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Compares the binary RPMs of a new build with the latest release of the same source package
 * before they are published. Paths that moved or disappeared, Provides that disappeared and
 * subpackages that disappeared block the publish: whoever builds on the package breaks silently.
 * Everything else is reported for a person to read.
 */
public final class ReleaseGuard {

    /**
     * Build-id links are named after a hash of the binary, so they change whenever the code does;
     * nobody refers to them by path.
     */
    private static final String BUILD_ID = "/usr/lib/.build-id";

    private ReleaseGuard() {
    }

    /**
     * Finds the latest release of the candidate's source package in {@code published} and compares
     * with it; passes, saying so, when there is none.
     *
     * @param candidate the binary RPMs of one build (source RPMs are ignored)
     * @param published the RPMs already in the repository
     * @throws KilnException (BAD_INPUT) when the candidate holds no binary RPM or RPMs of several source packages
     */
    public static GuardReport check(List<RpmFile> candidate, List<RpmFile> published) {
        List<RpmFile> binaries = candidate.stream().filter(r -> !r.source()).toList();
        Set<String> sources = binaries.stream().map(RpmFile::sourceName).collect(Collectors.toCollection(TreeSet::new));
        if (sources.isEmpty()) {
            throw KilnException.badInput("the release guard needs the binary RPMs of a build; none were given");
        }
        if (sources.size() > 1) {
            throw KilnException.badInput("the RPMs to guard come from several source packages " + sources
                    + ": guard one build at a time");
        }
        String sourceName = sources.iterator().next();
        List<RpmFile> released = Releases.latest(published, sourceName);
        if (released.isEmpty()) {
            return GuardReport.noEarlierRelease(sourceName, binaries.stream().map(RpmFile::nevra).toList());
        }
        return compare(released, binaries);
    }

    /**
     * Compares a candidate build with a released build, matching packages by name. When one side
     * holds several architectures of a name, each candidate is compared with the released package of
     * its own architecture, or the first one when there is none.
     */
    public static GuardReport.Compared compare(List<RpmFile> released, List<RpmFile> candidate) {
        Map<String, List<RpmFile>> before = byName(released);
        Map<String, List<RpmFile>> after = byName(candidate);
        String sourceName = candidate.isEmpty() ? "" : candidate.getFirst().sourceName();
        List<PackageChange> changes = new ArrayList<>();
        for (var entry : after.entrySet()) {
            for (RpmFile now : entry.getValue()) {
                List<RpmFile> was = before.get(entry.getKey());
                if (was == null) {
                    changes.add(new PackageChange.Added(entry.getKey(), now.nevra(), guardedFiles(now).size()));
                } else {
                    RpmFile match = was.stream().filter(r -> r.nevra().arch().equals(now.nevra().arch()))
                            .findFirst().orElse(was.getFirst());
                    changes.add(compare(match, now));
                }
            }
        }
        for (var entry : before.entrySet()) {
            if (!after.containsKey(entry.getKey())) {
                changes.add(new PackageChange.Disappeared(entry.getKey(), entry.getValue().getFirst().nevra()));
            }
        }
        return new GuardReport.Compared(sourceName, changes);
    }

    private static PackageChange.Compared compare(RpmFile was, RpmFile now) {
        List<DependencyChange> dependencies = new ArrayList<>();
        dependencies.addAll(dependencies(DependencyChange.Relation.PROVIDES, was, was.provides(), now, now.provides()));
        dependencies.addAll(dependencies(DependencyChange.Relation.REQUIRES, was, was.requires(), now, now.requires()));
        dependencies.addAll(dependencies(DependencyChange.Relation.OBSOLETES, was, was.obsoletes(), now, now.obsoletes()));
        dependencies.addAll(dependencies(DependencyChange.Relation.CONFLICTS, was, was.conflicts(), now, now.conflicts()));
        return new PackageChange.Compared(now.nevra().name(), was.nevra(), now.nevra(),
                PathChanges.between(guardedFiles(was), guardedFiles(now)), dependencies, scriptlets(was, now));
    }

    /**
     * Compares dependency lists by capability name. A version equal to the package's own EVR (the
     * automatic {@code name = 1.0-1} self-provide, {@code config(name)}, a subpackage's requirement on
     * its main package) or to its own version stands for "this build", so a release bump alone changes nothing.
     */
    private static List<DependencyChange> dependencies(DependencyChange.Relation relation, RpmFile was,
            List<RpmFile.Dependency> before, RpmFile now, List<RpmFile.Dependency> after) {
        Map<String, Map<String, String>> old = constraints(before, was);
        Map<String, Map<String, String>> current = constraints(after, now);
        Set<String> names = new TreeSet<>(old.keySet());
        names.addAll(current.keySet());
        List<DependencyChange> changes = new ArrayList<>();
        for (String name : names) {
            Map<String, String> a = old.getOrDefault(name, Map.of());
            Map<String, String> b = current.getOrDefault(name, Map.of());
            if (!a.keySet().equals(b.keySet())) {
                changes.add(new DependencyChange(relation, name, List.copyOf(a.values()), List.copyOf(b.values())));
            }
        }
        return changes;
    }

    /** name -> (constraint with this build's EVR replaced by a placeholder -> constraint as written). */
    private static Map<String, Map<String, String>> constraints(List<RpmFile.Dependency> dependencies, RpmFile rpm) {
        String evr = rpm.evr();
        String vr = rpm.nevra().version() + "-" + rpm.nevra().release();
        Map<String, Map<String, String>> result = new TreeMap<>();
        for (RpmFile.Dependency d : dependencies) {
            // rpmlib() requirements follow the rpmbuild that made the package, not the packager.
            if (d.rpmlib()) {
                continue;
            }
            String written = d.operator().isEmpty() || d.version().isEmpty() ? "" : d.operator() + " " + d.version();
            String version = d.version();
            String normalized = version.equals(evr) || version.equals(vr) ? "%{evr}"
                    : version.equals(rpm.nevra().version()) ? "%{version}" : version;
            String key = written.isEmpty() ? "" : d.operator() + " " + normalized;
            result.computeIfAbsent(d.name(), k -> new TreeMap<>()).putIfAbsent(key, written);
        }
        return result;
    }

    private static List<ScriptletChange> scriptlets(RpmFile was, RpmFile now) {
        Map<String, String> before = scriptTexts(was);
        Map<String, String> after = scriptTexts(now);
        List<ScriptletChange> changes = new ArrayList<>();
        for (String name : List.of("pretrans", "pre", "post", "preun", "postun", "posttrans")) {
            String a = before.getOrDefault(name, "");
            String b = after.getOrDefault(name, "");
            if (!a.equals(b)) {
                changes.add(new ScriptletChange(name, a, b, LineDiff.of(a, b)));
            }
        }
        return changes;
    }

    /** The interpreter as a {@code #!} line above the body, so a changed interpreter shows in the diff. */
    private static Map<String, String> scriptTexts(RpmFile rpm) {
        return rpm.scriptlets().stream().collect(Collectors.toMap(RpmFile.Scriptlet::name,
                s -> "#!" + s.interpreter() + (s.body().isEmpty() ? "" : "\n" + s.body().strip()),
                (a, b) -> a));
    }

    private static List<RpmFile.Entry> guardedFiles(RpmFile rpm) {
        return rpm.files().stream()
                .filter(e -> !e.path().equals(BUILD_ID) && !e.path().startsWith(BUILD_ID + "/"))
                .toList();
    }

    /**
     * Debug packages are left out: their paths carry the version and release by design
     * ({@code /usr/lib/debug/usr/bin/tool-1.0-1.x86_64.debug}) and nothing installs on top of them.
     */
    private static Map<String, List<RpmFile>> byName(List<RpmFile> rpms) {
        Map<String, List<RpmFile>> result = new LinkedHashMap<>();
        rpms.stream()
                .filter(r -> !r.source())
                .filter(r -> !r.nevra().name().endsWith("-debuginfo") && !r.nevra().name().endsWith("-debugsource"))
                .sorted(Comparator.comparing((RpmFile r) -> r.nevra().name()))
                .forEach(r -> result.computeIfAbsent(r.nevra().name(), k -> new ArrayList<>()).add(r));
        return result;
    }
}
