package dev.kiln.specfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.KilnException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every corpus spec, edited on a copy: bumped (with a changelog entry), and each of its patches
 * dropped in turn. Real rpm 4.18 ({@code rpmspec}) must read each result, report the new version
 * and no longer apply the dropped patch, and a line diff must show only the lines the edit owns.
 * An edit the model refuses must be refused with a one-line message naming the file and line;
 * the refusals are pinned below so that a new one (or a lost one) shows up as a failure.
 */
class SpecCorpusEditTest {

    /** rpm 4.18 cannot parse this file at all (BuildSystem: needs rpm 4.20); edits are checked by diff only. */
    private static final Set<String> RPM_CANNOT_PARSE = Set.of("14-fedora-python-python-fcl.spec");

    /** Defines each file needs beyond the common ones (corpus README, "Parsing with Debian's rpm 4.18"). */
    private static final Map<String, List<String>> DEFINES = Map.of(
            "12", List.of("py3_dist() python3dist(%1)"),
            "13", List.of("gometa(fL) %{nil}", "goname rclone", "goprep(A) %{nil}", "gourl https://example.invalid",
                    "gosource x.tar.gz"),
            "15", List.of("forgemeta %{nil}", "forgeautosetup(N) %setup -q"),
            "24", List.of("py_provides() Provides: %1"),
            "29", List.of("patchset_source(f:b:) %{nil}", "lua_add_etc_shells() %{nil}", "lua_remove_etc_shells() %{nil}"),
            "30", List.of("mklibname(ds) lib%{1}%{?2}", "rename() Provides: %1"),
            "35", List.of("amzn 2"),
            "36", List.of("do_profiling 0"));

    /** The edits the model refuses, by spec, with the words the message must carry. */
    private static final Map<String, String> EXPECTED_REFUSALS = Map.of(
            // Version: %_rpmversion, defined as 0.0.%(echo %_version | tr - .): a shell command
            "06-fedora-kismet.spec", ": 14: Version: takes %_rpmversion from line 6, which computes it with a shell command",
            // snapshot releases: the new version needs new snapshot macros too, which only a person knows
            "21-rpmfusion-moc.spec", "bump 2.7: 18: Release: 0.58.svn%{checkout}%{?dist} is a snapshot release",
            "22-rpmfusion-d1x.spec", "bump 1.44: 9: Release: 37.rebirth.%{snapshotdate}git%{shortcommit}%{?dist} is a snapshot",
            // XCP-ng's release follows XenServer's (%{?xsrel}.2): no counter of its own to reset
            "31-xcpng-qemu.spec", "bump 4.2.2: 18: Release: %{?xsrel}.2%{?dist} does not start with a release number");

    private static final LocalDate DATE = LocalDate.of(2026, 11, 25);
    private static final Map<String, String> OUTCOMES = new ConcurrentSkipListMap<>();
    private static final Map<String, String> REFUSALS = new ConcurrentSkipListMap<>();
    private static final java.util.concurrent.atomic.AtomicInteger DROPS = new java.util.concurrent.atomic.AtomicInteger();
    /** Drops whose patch rpm applied before the edit: the ones where "no longer applied" proves something. */
    private static final java.util.concurrent.atomic.AtomicInteger APPLIED_BEFORE = new java.util.concurrent.atomic.AtomicInteger();

    @TempDir
    Path dir;

    static List<String> corpus() {
        return SpecCorpus.names();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void bumpsAndDropsEachPatchInEveryCorpusSpec(String name) throws Exception {
        SpecCorpus.assumePresent();
        String text = SpecCorpus.read(name);
        SpecDocument original = SpecDocument.parse(name, text);
        Files.writeString(dir.resolve("license.txt"), "License: MIT\n");
        List<String> refused = new ArrayList<>();

        // the version as rpm reads it (the model expands nothing)
        String current = RPM_CANNOT_PARSE.contains(name) ? original.version()
                : rpmspec(name, text, "-q", "--srpm", "--qf", "%{VERSION}").strip();
        String newVersion = nextVersion(current);
        try {
            SpecDocument bumped = original.bump(newVersion);
            String evr = RPM_CANNOT_PARSE.contains(name) ? newVersion + "-1"
                    : rpmspec(name, bumped.render(), "-q", "--srpm", "--qf", "%{VERSION}-%{RELEASE}").strip();
            SpecDocument edited = bumped.addChangelogEntry("Kiln Tests", "tests@kiln.dev", DATE, evr,
                    List.of("Update to " + newVersion));
            checkBumpDiff(original, edited);
            if (!RPM_CANNOT_PARSE.contains(name)) {
                String out = rpmspec(name, edited.render(), "-q", "--srpm", "--qf", "%{VERSION}|%{CHANGELOGNAME}\\n");
                String[] fields = out.strip().split("\\|", -1);
                assertThat(fields[0]).as(name + " version after bump").isEqualTo(newVersion);
                if (!original.changelog().automatic()) {
                    assertThat(fields[1]).as(name + " first changelog entry").startsWith("Kiln Tests <tests@kiln.dev>");
                }
            }
        } catch (KilnException e) {
            refused.add("bump " + newVersion + ": " + checkRefusal(name, e));
        }

        String originalPrep = RPM_CANNOT_PARSE.contains(name) ? "" : rpmspec(name, text, "-P");
        // the patch files as rpm names them: the model keeps tag values as written (%{name}-fix.patch)
        Map<Integer, String> files = new TreeMap<>();
        SpecDocument.parse(name, originalPrep).numberedPatches()
                .forEach(n -> files.putIfAbsent(n.number(), SpecDocument.fileName(n.tag().value())));
        for (SpecDocument.Patch patch : original.patches()) {
            String file = files.getOrDefault(patch.number(), patch.fileName());
            if (!appliedLines(originalPrep, dir.resolve(file).toString()).isEmpty()) {
                APPLIED_BEFORE.incrementAndGet();
            }
            DROPS.incrementAndGet();
            try {
                SpecDocument dropped = original.dropPatch(patch.fileName());
                checkDropDiff(original, dropped, patch);
                if (!RPM_CANNOT_PARSE.contains(name)) {
                    String prep = rpmspec(name, dropped.render(), "-P");
                    assertThat(appliedLines(prep, dir.resolve(file).toString()))
                            .as(name + ": " + patch.fileName() + " still applied after the drop").isEmpty();
                }
            } catch (KilnException e) {
                refused.add("drop " + patch.fileName() + ": " + checkRefusal(name, e));
            }
        }
        OUTCOMES.put(name, refused.isEmpty() ? "pass" : "refused");
        if (!refused.isEmpty()) {
            REFUSALS.put(name, String.join(" | ", refused));
        }
        String expected = EXPECTED_REFUSALS.get(name);
        if (expected == null) {
            assertThat(refused).as(name + " refusals").isEmpty();
        } else {
            assertThat(String.join(" | ", refused)).as(name + " refusals").contains(expected);
        }
    }

    @AfterAll
    static void printSummary() {
        if (OUTCOMES.isEmpty()) {
            return;
        }
        long pass = OUTCOMES.values().stream().filter("pass"::equals).count();
        System.out.println("spec corpus edits: " + OUTCOMES.size() + " specs, " + pass + " pass, "
                + (OUTCOMES.size() - pass) + " refused; " + DROPS + " patch drops, " + APPLIED_BEFORE
                + " of them applied in rpmspec -P before the drop");
        REFUSALS.forEach((spec, why) -> System.out.println("  refused " + spec + ": " + why));
    }

    /** The version a maintainer would bump to: the last number plus one (1.2.3 -> 1.2.4). */
    static String nextVersion(String version) {
        if (version.contains("%")) {
            // computed by something the model cannot expand (kismet's shell command): any valid version
            return "2026.1";
        }
        Matcher m = Pattern.compile("(\\d+)(\\D*)$").matcher(version);
        if (!m.find()) {
            return version + ".1";
        }
        return version.substring(0, m.start()) + (Long.parseLong(m.group(1)) + 1) + m.group(2);
    }

    private static String checkRefusal(String name, KilnException e) {
        assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT);
        assertThat(e.getMessage()).as("one line naming the file and line").doesNotContain("\n")
                .matches(Pattern.quote(name) + ":\\d+: .+");
        return e.getMessage().substring(name.length() + 1);
    }

    private static void checkBumpDiff(SpecDocument original, SpecDocument edited) {
        Set<Integer> allowed = new HashSet<>();
        allowed.add(original.tag("Version").orElseThrow().line());
        allowed.add(original.tag("Release").orElseThrow().line());
        original.definitions().forEach(d -> allowed.add(d.line()));
        Diff diff = Diff.of(original.render(), edited.render());
        assertThat(diff.removed()).as(original.path() + " lines changed by bump").isSubsetOf(allowed);
        // added lines: the replacements, the changelog entry and, where there was none, the %changelog section
        int entry = original.changelog().automatic() ? 0 : 3;
        int section = original.changelog().line() == 0 && !original.changelog().automatic() ? 2 : 0;
        assertThat(diff.added().size()).as(original.path() + " lines added by bump").isLessThanOrEqualTo(
                diff.removed().size() + entry + section + 1);
    }

    private static void checkDropDiff(SpecDocument original, SpecDocument dropped, SpecDocument.Patch patch) {
        Set<Integer> allowed = new HashSet<>(patch.appliedOn());
        original.patches().stream().filter(p -> p.fileName().equals(patch.fileName())).forEach(p -> allowed.add(p.line()));
        Diff diff = Diff.of(original.render(), dropped.render());
        assertThat(diff.removed()).as(original.path() + " lines touched dropping " + patch.fileName())
                .contains(patch.line()).isSubsetOf(allowed);
        assertThat(diff.added().size()).as("rewritten application lines").isLessThanOrEqualTo(patch.appliedOn().size());
    }

    /** Lines of {@code rpmspec -P} output that use the patch file: not comments, not the changelog. */
    private static List<String> appliedLines(String prep, String patchPath) {
        List<String> out = new ArrayList<>();
        for (String line : prep.split("\n")) {
            if (line.strip().equalsIgnoreCase("%changelog")) {
                break;
            }
            if (!line.stripLeading().startsWith("#") && line.contains(patchPath)) {
                out.add(line);
            }
        }
        return out;
    }

    private String rpmspec(String name, String text, String... args) throws IOException, InterruptedException {
        assumeTrue(rpmspecInstalled(), "rpmspec not installed; skipping the rpm checks");
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        List<String> command = new ArrayList<>(List.of("rpmspec"));
        command.addAll(List.of(args));
        List<String> defines = new ArrayList<>(List.of("autorelease(e:s:pb:n) 1%{?dist}", "autochangelog %{nil}",
                "_sourcedir " + dir));
        defines.addAll(DEFINES.getOrDefault(name.substring(0, 2), List.of()));
        for (String d : defines) {
            command.add("--define");
            command.add(d);
        }
        command.add(file.toString());
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.toString();
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(name + ": rpmspec " + String.join(" ", args) + " failed:\n" + err.join()).isZero();
        return out;
    }

    private static Boolean installed;

    private static synchronized boolean rpmspecInstalled() {
        if (installed == null) {
            try {
                installed = new ProcessBuilder("rpmspec", "--version").start().waitFor() == 0;
            } catch (IOException | InterruptedException e) {
                installed = false;
            }
        }
        return installed;
    }

    /** A line diff: 1-based numbers of original lines removed, and of edited lines added. */
    record Diff(List<Integer> removed, List<Integer> added) {
        static Diff of(String before, String after) {
            String[] a = before.split("\n", -1);
            String[] b = after.split("\n", -1);
            int prefix = 0;
            while (prefix < a.length && prefix < b.length && a[prefix].equals(b[prefix])) {
                prefix++;
            }
            int suffix = 0;
            while (suffix < a.length - prefix && suffix < b.length - prefix
                    && a[a.length - 1 - suffix].equals(b[b.length - 1 - suffix])) {
                suffix++;
            }
            int n = a.length - prefix - suffix;
            int m = b.length - prefix - suffix;
            int[][] lcs = new int[n + 1][m + 1];
            for (int i = n - 1; i >= 0; i--) {
                for (int j = m - 1; j >= 0; j--) {
                    lcs[i][j] = a[prefix + i].equals(b[prefix + j]) ? lcs[i + 1][j + 1] + 1
                            : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
                }
            }
            List<Integer> removed = new ArrayList<>();
            List<Integer> added = new ArrayList<>();
            int i = 0;
            int j = 0;
            while (i < n || j < m) {
                if (i < n && j < m && a[prefix + i].equals(b[prefix + j])) {
                    i++;
                    j++;
                } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
                    added.add(prefix + j++ + 1);
                } else {
                    removed.add(prefix + i++ + 1);
                }
            }
            return new Diff(removed, added);
        }
    }
}
