package dev.kiln.pipeline;

import dev.kiln.rpm.PayloadManifest;
import dev.kiln.rpm.PayloadManifest.FileState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Whether two builds of the same inputs produced the same packages. Packages are paired by name
 * and architecture; a pair is identical when the payload digests rpmbuild recorded are equal (so
 * signatures, which sit outside the payload, do not count). For a pair that differs, the report
 * names each file whose recorded digest, size, mode, mtime, link target or owner differs, or that
 * only one side has, from the headers alone.
 */
public final class Reproducibility {

    private Reproducibility() {
    }

    /** The outcome for one package name and architecture. */
    public enum Status { IDENTICAL, DIFFERENT, ONLY_IN_FIRST, ONLY_IN_SECOND }

    /**
     * One file that differs between the two builds of a package.
     *
     * @param fields what differs, in a fixed order: {@code missing in first}, {@code missing in second},
     *     {@code digest}, {@code size}, {@code mode}, {@code mtime}, {@code link}, {@code owner}
     */
    public record FileDifference(String path, List<String> fields) {
        public FileDifference {
            fields = List.copyOf(fields);
        }
    }

    /**
     * @param name {@code name.arch} ({@code hello.noarch}, {@code hello.src})
     * @param firstDigest the first build's payload digest, empty when absent
     * @param files the files that differ; empty when identical (and possibly when only header fields differ)
     */
    public record PackageComparison(String name, Status status, String firstDigest, String secondDigest, List<FileDifference> files) {
        public PackageComparison {
            files = List.copyOf(files);
        }
    }

    /** Every package of either build, sorted by name. */
    public record Report(List<PackageComparison> packages) {
        public Report {
            packages = List.copyOf(packages);
        }

        /** True when both builds made the same packages with identical payloads. */
        public boolean reproducible() {
            return !packages.isEmpty() && packages.stream().allMatch(p -> p.status() == Status.IDENTICAL);
        }

        /** Lines a person reads: one per package, then one per differing file. */
        public String render() {
            StringBuilder out = new StringBuilder();
            for (PackageComparison p : packages) {
                out.append(p.name()).append(": ").append(switch (p.status()) {
                    case IDENTICAL -> "identical payload (" + p.firstDigest() + ")";
                    case DIFFERENT -> "payload differs (" + p.firstDigest() + " vs " + p.secondDigest() + ")";
                    case ONLY_IN_FIRST -> "only in the first build";
                    case ONLY_IN_SECOND -> "only in the second build";
                }).append('\n');
                for (FileDifference f : p.files()) {
                    out.append("  ").append(f.path()).append(": ").append(String.join(", ", f.fields())).append('\n');
                }
            }
            return out.toString();
        }
    }

    public static Report compare(List<Path> first, List<Path> second) {
        Map<String, PayloadManifest> a = byName(first);
        Map<String, PayloadManifest> b = byName(second);
        TreeSet<String> names = new TreeSet<>(a.keySet());
        names.addAll(b.keySet());
        List<PackageComparison> result = new ArrayList<>();
        for (String name : names) {
            PayloadManifest x = a.get(name);
            PayloadManifest y = b.get(name);
            if (x == null || y == null) {
                result.add(new PackageComparison(name, x == null ? Status.ONLY_IN_SECOND : Status.ONLY_IN_FIRST,
                        x == null ? "" : x.payloadDigest(), y == null ? "" : y.payloadDigest(), List.of()));
            } else if (x.samePayload(y)) {
                result.add(new PackageComparison(name, Status.IDENTICAL, x.payloadDigest(), y.payloadDigest(), List.of()));
            } else {
                result.add(new PackageComparison(name, Status.DIFFERENT, x.payloadDigest(), y.payloadDigest(), files(x, y)));
            }
        }
        return new Report(result);
    }

    private static Map<String, PayloadManifest> byName(List<Path> rpms) {
        Map<String, PayloadManifest> result = new TreeMap<>();
        for (Path rpm : rpms) {
            PayloadManifest m = PayloadManifest.read(rpm);
            String name = m.nevra().name() + "." + m.nevra().arch();
            if (result.put(name, m) != null) {
                throw new IllegalArgumentException("two packages named " + name + " in one build: " + rpms);
            }
        }
        return result;
    }

    private static List<FileDifference> files(PayloadManifest x, PayloadManifest y) {
        Map<String, FileState> a = byPath(x.files());
        Map<String, FileState> b = byPath(y.files());
        TreeSet<String> paths = new TreeSet<>(a.keySet());
        paths.addAll(b.keySet());
        List<FileDifference> result = new ArrayList<>();
        for (String path : paths) {
            FileState f = a.get(path);
            FileState g = b.get(path);
            List<String> fields = new ArrayList<>();
            if (f == null) {
                fields.add("missing in first");
            } else if (g == null) {
                fields.add("missing in second");
            } else {
                if (!f.digest().equals(g.digest())) {
                    fields.add("digest");
                }
                if (f.size() != g.size()) {
                    fields.add("size");
                }
                if (f.mode() != g.mode()) {
                    fields.add("mode");
                }
                if (f.mtime() != g.mtime()) {
                    fields.add("mtime");
                }
                if (!f.linkTo().equals(g.linkTo())) {
                    fields.add("link");
                }
                if (!f.user().equals(g.user()) || !f.group().equals(g.group())) {
                    fields.add("owner");
                }
            }
            if (!fields.isEmpty()) {
                result.add(new FileDifference(path, fields));
            }
        }
        return result;
    }

    private static Map<String, FileState> byPath(List<FileState> files) {
        Map<String, FileState> result = new LinkedHashMap<>();
        files.forEach(f -> result.put(f.path(), f));
        return result;
    }
}
