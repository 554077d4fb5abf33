package dev.kiln.repo;

import dev.kiln.KilnException;
import dev.kiln.repo.repodata.ServedPrimary;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmVersion;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which releases {@code repo prune --keep N} keeps: for each package name and architecture the
 * {@code N} newest by rpm's order (epoch, then version and release as {@link RpmVersion} compares
 * them: {@code 1.10} after {@code 1.9}, {@code 1.0~rc1} before {@code 1.0}), so the newest of each
 * is never removed. Names and arches are separate lines: {@code foo.x86_64} and {@code foo.noarch}
 * each keep their own {@code N}.
 *
 * <p>The files that go with a removed release are its RPM, its provenance document, and the source
 * RPM it was built from (with its provenance) when no kept release names that source RPM.
 *
 * @param kept the packages that stay, sorted by NEVRA string
 * @param removed the packages that go, sorted by NEVRA string
 * @param removedPkgids the SHA-256 of each removed RPM, as the metadata names it
 * @param files every file to remove, relative to the repository root ({@code Packages/...},
 *     {@code SRPMS/...}), whether it exists or not: each kind checks what it holds
 */
public record PrunePlan(List<Nevra> kept, List<Nevra> removed, Set<String> removedPkgids, List<String> files) {


    /** rpm's order of two releases of one package: epoch (a missing one is 0), version, release. */
    public static final Comparator<Nevra> RPM_ORDER = (a, b) -> {
        int c = RpmVersion.compare(a.epoch().isEmpty() ? "0" : a.epoch(), b.epoch().isEmpty() ? "0" : b.epoch());
        if (c == 0) {
            c = RpmVersion.compare(a.version(), b.version());
        }
        return c != 0 ? c : RpmVersion.compare(a.release(), b.release());
    };

    public PrunePlan {
        kept = List.copyOf(kept);
        removed = List.copyOf(removed);
        removedPkgids = Set.copyOf(removedPkgids);
        files = List.copyOf(files);
    }

    public boolean empty() {
        return removed.isEmpty();
    }

    /**
     * @throws KilnException BAD_INPUT when {@code keep} is below 1: keeping none would remove the latest release
     */
    public static int checkKeep(int keep) {
        if (keep < 1) {
            throw KilnException.badInput("repo prune: --keep " + keep + " keeps no release: give a whole number of 1 or more "
                    + "(the latest release of every package is always kept)");
        }
        return keep;
    }

    /** The plan over the packages a primary document lists (any tool's: the source RPM comes from it). */
    public static PrunePlan keepNewest(Collection<ServedPrimary.Package> packages, int keep) {
        checkKeep(keep);
        Map<String, List<ServedPrimary.Package>> lines = new LinkedHashMap<>();
        for (ServedPrimary.Package p : packages) {
            lines.computeIfAbsent(p.nevra().name() + "." + p.nevra().arch(), k -> new ArrayList<>()).add(p);
        }
        List<ServedPrimary.Package> kept = new ArrayList<>();
        List<ServedPrimary.Package> removed = new ArrayList<>();
        for (List<ServedPrimary.Package> line : lines.values()) {
            // newest first; ties (the same EVR twice cannot be published) keep their order
            line.sort(Comparator.comparing(ServedPrimary.Package::nevra, RPM_ORDER).reversed());
            kept.addAll(line.subList(0, Math.min(keep, line.size())));
            removed.addAll(line.subList(Math.min(keep, line.size()), line.size()));
        }
        Set<String> keptSources = new TreeSet<>();
        kept.forEach(p -> p.sourceRpm().ifPresent(keptSources::add));
        Set<String> files = new TreeSet<>();
        Set<String> pkgids = new TreeSet<>();
        for (ServedPrimary.Package p : removed) {
            files.add(p.href());
            files.add(p.href() + DirectoryRepository.PROVENANCE_SUFFIX);
            pkgids.add(p.checksum());
            p.sourceRpm().filter(s -> !keptSources.contains(s) && safeName(s)).ifPresent(s -> {
                files.add(DirectoryRepository.SOURCES + "/" + s);
                files.add(DirectoryRepository.SOURCES + "/" + s + DirectoryRepository.PROVENANCE_SUFFIX);
            });
        }
        return new PrunePlan(sorted(kept), sorted(removed), pkgids, List.copyOf(files));
    }

    /** A source RPM name from a header is a plain file name, never a path. */
    private static boolean safeName(String name) {
        return name.endsWith(".src.rpm") && !name.contains("/") && !name.startsWith(".");
    }

    private static List<Nevra> sorted(List<ServedPrimary.Package> packages) {
        return packages.stream().map(ServedPrimary.Package::nevra).sorted(Comparator.comparing(Nevra::toString)).toList();
    }
}
