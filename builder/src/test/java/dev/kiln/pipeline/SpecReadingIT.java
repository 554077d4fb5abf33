package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.KilnException;
import dev.kiln.KilnProject;
import dev.kiln.config.ConfigLoader;
import dev.kiln.config.KilnConfig;
import dev.kiln.container.BuildContainer;
import dev.kiln.container.ContainerArchive;
import dev.kiln.repo.RepositoryServer;
import dev.kiln.rpm.TestRpms;
import dev.kiln.specfile.EvaluatedSpec;
import dev.kiln.specfile.SpecDocument;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Specs read the way rpm reads them, in the real builder container: a builder with its own macro
 * file (the company's %_company_prefix, %dist .el9, and the macros the shared corpus of real-world
 * specs needs), every corpus spec read by Kiln compared with what the builder's rpmspec reports,
 * every corpus spec bumped and confirmed by rpm (or refused with a true reason), and a spec using
 * %{url}, a conditional source, the company macro and Lua built, installed with dnf and rebuilt.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SpecReadingIT {

    /** The corpus README's defines, as a builder's macro file; plus the company's own. */
    static final String MACROS = """
            %_company_prefix /opt/company
            %dist .el9
            %autorelease(e:s:pb:n) 1%{?dist}
            %autochangelog %{nil}
            %py3_dist() python3dist(%1)
            %py_provides() Provides: %1
            %forgemeta %{nil}
            %forgeautosetup(N) %setup -q
            %gometa(fL) %{nil}
            %goname rclone
            %goprep(A) %{nil}
            %gourl https://example.invalid
            %gosource x.tar.gz
            %mklibname(ds) lib%{1}%{?2}
            %rename() Provides: %1
            %patchset_source(f:b:) %{nil}
            %lua_add_etc_shells() %{nil}
            %lua_remove_etc_shells() %{nil}
            %amzn 2
            %do_profiling 0
            """;

    /** rpm 4.18 cannot read it: BuildSystem: needs rpm 4.20. */
    private static final String UNREADABLE = "14-fedora-python-python-fcl";

    private static final Path CORPUS = KilnProject.SOURCE_ROOT.resolve("../shared/spec-corpus/specs").normalize();

    @TempDir
    static Path tmp;

    static KilnProject project;

    @BeforeAll
    static void project() throws IOException {
        project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
        project.write("containers/rpm-builder/macros", MACROS);
        KilnProject.Result pin = project.run("image", "build", "rpm-builder");
        assertThat(pin.exitCode()).as(pin.describe()).isZero();
        project.commit("rpm-builder: the company's macros");
    }

    private static final BuildListener QUIET = new BuildListener() {
        @Override
        public void stage(String name) {
            System.out.println(name);
        }

        @Override
        public void notice(String message) {
            System.out.println(message);
        }

        @Override
        public void log(String line) {
        }
    };

    private static BuilderSession session(KilnConfig config) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> list = Files.list(project.root().resolve("containers/rpm-builder"))) {
            for (Path p : list.toList()) {
                files.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return new BuilderSession(config, "rpm-builder", files, QUIET, java.util.Optional.empty());
    }

    private static List<SpecEvaluator.SpecFiles> corpus() throws IOException {
        List<SpecEvaluator.SpecFiles> out = new ArrayList<>();
        try (Stream<Path> list = Files.list(CORPUS)) {
            for (Path p : list.filter(f -> f.toString().endsWith(".spec")).sorted().toList()) {
                String name = p.getFileName().toString().replace(".spec", "");
                // Photon's specs %include their license.txt from the sources (corpus README)
                Map<String, byte[]> local = name.contains("photon")
                        ? Map.of("license.txt", "License: MIT\n".getBytes(StandardCharsets.UTF_8)) : Map.of();
                out.add(new SpecEvaluator.SpecFiles(name, "specs/" + name + "/" + name + ".spec", Files.readAllBytes(p), local,
                        Map.of()));
            }
        }
        return out;
    }

    /** What the builder's rpmspec itself reports, queried directly, spec by spec. */
    private record Reported(String version, Set<String> sources, Set<String> patches, Set<String> buildRequires,
            List<String> packages) {
    }

    private static Map<String, Reported> reported(BuilderSession session, List<SpecEvaluator.SpecFiles> specs) {
        Map<String, byte[]> files = new TreeMap<>();
        files.put("kiln-macros", MACROS.getBytes(StandardCharsets.UTF_8));
        for (SpecEvaluator.SpecFiles s : specs) {
            files.put("c/" + s.packageName() + "/" + s.packageName() + ".spec", s.spec());
            s.local().forEach((n, b) -> files.put("c/" + s.packageName() + "/" + n, b));
        }
        String script = """
                cd $HOME/c
                for n in *; do
                  set -- --load "$HOME/kiln-macros" --define "_sourcedir $HOME/c/$n"
                  echo "== $n"
                  rpmspec "$@" -q --srpm --qf 'V %{VERSION}\\n[S %{SOURCE}\\n][P %{PATCH}\\n][B %{REQUIRENAME}\\n]' $n/$n.spec 2>/dev/null
                  rpmspec "$@" -q --qf 'K %{NAME}\\n' $n/$n.spec 2>/dev/null
                done
                """;
        Map<String, List<String>> lines = new TreeMap<>();
        try (BuildContainer c = BuildContainer.create(session.engine(), session.image().imageId(), PackageBuild.limits(
                ConfigLoader.load(project.root(), Map.of(), Map.of())), List.of("sh", "-c", script), Map.of("HOME", "/home/builder"),
                BuildContainer.Exchange.into("/home/builder"))) {
            String[] current = {null};
            Map<String, ContainerArchive.Content> contents = new TreeMap<>();
            files.forEach((name, bytes) -> contents.put(name, ContainerArchive.Content.of(bytes)));
            int exit = c.run(contents, line -> {
                if (line.startsWith("== ")) {
                    current[0] = line.substring(3);
                    lines.put(current[0], new ArrayList<>());
                } else if (current[0] != null) {
                    lines.get(current[0]).add(line);
                }
            });
            assertThat(exit).isZero();
        }
        Map<String, Reported> out = new TreeMap<>();
        lines.forEach((name, ls) -> {
            String version = null;
            Set<String> sources = new TreeSet<>();
            Set<String> patches = new TreeSet<>();
            Set<String> requires = new TreeSet<>();
            List<String> packages = new ArrayList<>();
            for (String l : ls) {
                String v = l.length() > 2 ? l.substring(2) : "";
                switch (l.charAt(0)) {
                    case 'V' -> version = v;
                    case 'S' -> sources.add(v);
                    case 'P' -> patches.add(v);
                    case 'B' -> requires.add(v);
                    case 'K' -> packages.add(v);
                    default -> { }
                }
            }
            if (version != null) {
                out.put(name, new Reported(version, sources, patches, requires, packages));
            }
        });
        return out;
    }

    @Test
    @Order(1)
    void theCorpusReadByKilnIsWhatTheBuildersRpmReportsAndEveryBumpIsConfirmedOrRefusedTruly() throws Exception {
        assumeTrue(Files.isDirectory(CORPUS), "spec corpus not found at " + CORPUS);
        KilnConfig config = ConfigLoader.load(project.root(), Map.of(), Map.of());
        List<SpecEvaluator.SpecFiles> specs = corpus();
        assertThat(specs).hasSize(40);
        try (BuilderSession session = session(config)) {
            SpecEvaluator evaluator = new SpecEvaluator(config.cache(), PackageBuild.limits(config), QUIET);
            long started = System.nanoTime();
            Map<String, SpecEvaluator.Evaluation> read = evaluator.evaluate(specs, session);
            long firstMillis = (System.nanoTime() - started) / 1_000_000;
            Map<String, Reported> rpm = reported(session, specs);

            int equal = 0;
            Map<String, String> refusedReadings = new TreeMap<>();
            for (SpecEvaluator.SpecFiles s : specs) {
                SpecEvaluator.Evaluation e = read.get(s.packageName());
                Reported r = rpm.get(s.packageName());
                String what = s.packageName();
                if (e.refusal() != null) {
                    refusedReadings.put(what, e.refusal().getMessage());
                    Matcher undefined = Pattern.compile("%([A-Za-z_][A-Za-z0-9_]*) is not defined in builder").matcher(e.refusal().getMessage());
                    if (r == null) {
                        // rpm cannot read it either: Kiln says so in rpm's words
                        assertThat(e.refusal().getMessage()).as(what).contains("cannot read this spec");
                    } else {
                        // rpm read it, leaving a macro nobody defines in a value: the refusal names that very macro
                        assertThat(undefined.find()).as(what + ": " + e.refusal().getMessage()).isTrue();
                        String macro = undefined.group(1);
                        assertThat(String.join(" ", r.sources()) + " " + String.join(" ", r.patches()) + " "
                                + String.join(" ", r.buildRequires()) + " " + String.join(" ", r.packages()) + " " + r.version())
                                .as(what + ": rpm's own answer holds %" + macro + " unexpanded").containsPattern("%\\{?" + macro);
                    }
                    continue;
                }
                assertThat(r).as(what + ": Kiln read it, so rpm must report it").isNotNull();
                EvaluatedSpec spec = e.spec();
                assertThat(spec.version()).as(what + " version").isEqualTo(r.version());
                assertThat(new TreeSet<>(spec.sources().stream().map(EvaluatedSpec.SourceTag::fileName).toList()))
                        .as(what + " sources").isEqualTo(r.sources());
                assertThat(new TreeSet<>(spec.patches().stream().map(EvaluatedSpec.PatchTag::fileName).toList()))
                        .as(what + " patches").isEqualTo(r.patches());
                assertThat(new TreeSet<>(spec.buildRequires().stream().map(EvaluatedSpec.Requirement::capability).toList()))
                        .as(what + " BuildRequires").isEqualTo(r.buildRequires().stream()
                                .filter(b -> !b.startsWith("rpmlib(")).collect(java.util.stream.Collectors.toCollection(TreeSet::new)));
                assertThat(spec.packages()).as(what + " packages").isEqualTo(r.packages());
                equal++;
            }
            refusedReadings.forEach((n, m) -> System.out.println("  refused reading " + n + ": " + m));
            assertThat(refusedReadings.keySet()).containsExactlyInAnyOrderElementsOf(REFUSED_READINGS.keySet());
            REFUSED_READINGS.forEach((n, words) -> assertThat(refusedReadings.get(n)).as(n).contains(words));
            assertThat(equal).isEqualTo(40 - REFUSED_READINGS.size());

            // A second reading starts no container: every spec comes from the cache.
            long again = System.nanoTime();
            Map<String, SpecEvaluator.Evaluation> cached = evaluator.evaluate(specs, session);
            long cachedMillis = (System.nanoTime() - again) / 1_000_000;
            assertThat(cached.keySet()).isEqualTo(read.keySet());
            cached.forEach((n, c) -> assertThat(c.spec()).as(n).isEqualTo(read.get(n).spec()));

            // Bump: every spec rpm reads gets the next version and loses its first patch; rpm must confirm it.
            Map<String, String> outcomes = new TreeMap<>();
            Map<String, SpecDocument> edited = new TreeMap<>();
            Map<String, Set<Integer>> droppedOf = new TreeMap<>();
            List<SpecEvaluator.SpecFiles> editedFiles = new ArrayList<>();
            for (SpecEvaluator.SpecFiles s : specs) {
                SpecEvaluator.Evaluation e = read.get(s.packageName());
                if (e.refusal() != null) {
                    continue;
                }
                EvaluatedSpec spec = e.spec();
                SpecDocument doc = SpecDocument.parse(s.specPath(), new String(s.spec(), StandardCharsets.UTF_8));
                try {
                    doc = doc.bump(next(spec.version()));
                    Set<Integer> dropped = Set.of();
                    // the first patch written as a tag line (bash's upstream patches are made by a Lua loop)
                    SpecDocument written = doc;
                    var droppable = spec.patches().stream().filter(p -> written.patchLine(p.number()) > 0).findFirst();
                    if (droppable.isPresent()) {
                        int first = droppable.get().number();
                        doc = doc.dropPatch(first);
                        dropped = Set.of(first);
                    }
                    doc = doc.addChangelogEntry("Kiln Tests", "tests@kiln.dev", LocalDate.of(2026, 12, 2), "x-1", List.of("Update"));
                    edited.put(s.packageName(), doc);
                    droppedOf.put(s.packageName(), dropped);
                    editedFiles.add(new SpecEvaluator.SpecFiles(s.packageName(), s.specPath(),
                            doc.render().getBytes(StandardCharsets.UTF_8), s.local(), s.patches()));
                } catch (KilnException refused) {
                    outcomes.put(s.packageName(), "refused by the model: " + refused.getMessage());
                }
            }
            Map<String, SpecEvaluator.Evaluation> bumped = evaluator.evaluate(editedFiles, session);
            for (var en : edited.entrySet()) {
                String name = en.getKey();
                EvaluatedSpec original = read.get(name).spec();
                try {
                    EvaluatedSpec confirmed = BumpCheck.confirm(original, bumped.get(name), en.getValue(), next(original.version()),
                            droppedOf.get(name));
                    assertThat(confirmed.version()).isEqualTo(next(original.version()));
                    outcomes.put(name, "confirmed");
                } catch (KilnException refused) {
                    outcomes.put(name, "refused by rpm's reading: " + refused.getMessage());
                }
            }
            long confirmedCount = outcomes.values().stream().filter("confirmed"::equals).count();
            System.out.printf("spec corpus in the builder: read equal to rpm %d of 40 (first reading %d ms, from the cache %d ms);"
                    + " bumped and confirmed %d of %d%n", equal, firstMillis, cachedMillis, confirmedCount, outcomes.size());
            outcomes.forEach((n, o) -> {
                if (!o.equals("confirmed")) {
                    System.out.println("  " + n + ": " + o);
                }
            });
            // The refusals are true: each names a real obstacle, pinned here so a new one shows up.
            assertThat(outcomes).hasSize(40 - REFUSED_READINGS.size());
            Map<String, String> refusals = new TreeMap<>();
            outcomes.forEach((n, o) -> {
                if (!o.equals("confirmed")) {
                    refusals.put(n, o);
                }
            });
            assertThat(refusals.keySet()).containsExactlyInAnyOrderElementsOf(EXPECTED_REFUSALS.keySet());
            EXPECTED_REFUSALS.forEach((n, words) -> assertThat(refusals.get(n)).as(n).contains(words));
        }
    }

    /** Specs Kiln does not read, with the words of the (true) reason. */
    private static final Map<String, String> REFUSED_READINGS = Map.of(
            UNREADABLE, "Unknown tag: BuildSystem",
            // rpm reads these, leaving in a value a macro that neither the corpus README's defines nor rpm 4.18 define
            "12-fedora-python-astropy", "Source0 '%{pypi_source astropy 8.0.1}': %pypi_source is not defined in builder",
            "13-fedora-rclone", "Source1 '%{archivename}-vendor.tar.bz2': %archivename is not defined in builder",
            "15-fedora-cantata", "Source0 '%{forgesource}': %forgesource is not defined in builder",
            "24-rpmfusion-VirtualBox", "BuildRequires 'python%{python3_pkgversion}-devel': %python3_pkgversion is not defined");

    /** Bumps that cannot be made by a tool, with the words their refusal must carry. */
    private static final Map<String, String> EXPECTED_REFUSALS = Map.of(
            "06-fedora-kismet", "computes it with a shell command",
            "21-rpmfusion-moc", "is a snapshot release",
            "22-rpmfusion-d1x", "is a snapshot release",
            "31-xcpng-qemu", "does not start with a release number");

    static String next(String version) {
        Matcher m = Pattern.compile("(\\d+)(\\D*)$").matcher(version);
        return m.find() ? version.substring(0, m.start()) + (Long.parseLong(m.group(1)) + 1) + m.group(2) : version + ".1";
    }

    @Test
    @Order(2)
    void aSpecUsingUrlAConditionalSourceACompanyMacroAndLuaIsBuiltInstalledAndRebuiltOnTheBuildersDist() throws Exception {
        Path upstream = Files.createDirectories(tmp.resolve("upstream"));
        byte[] script = "#!/bin/sh\necho \"greetings from $(dirname \"$0\")\"\n".getBytes(StandardCharsets.UTF_8);
        Files.write(upstream.resolve("greeter-1.0.sh"), script);
        String sha512 = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-512").digest(script));
        String spec = """
                %global shout %{lua: print(string.upper("greeter"))}
                Name:           greeter
                Version:        1.0
                Release:        1%{?dist}
                Summary:        Greets from the company prefix
                License:        MIT
                BuildArch:      noarch
                AutoReqProv:    no
                URL:            file://UPSTREAM
                Source0:        %{url}/%{name}-%{version}.sh
                %if 0%{?rhel}
                Source40:       rhel-only.conf
                %endif

                %description
                %{shout} installs into %{_company_prefix}.

                %prep

                %build

                %install
                install -D -m 0755 %{SOURCE0} %{buildroot}%{_company_prefix}/bin/greeter
                echo %{shout} > %{buildroot}%{_company_prefix}/NAME

                %files
                %{_company_prefix}/bin/greeter
                %{_company_prefix}/NAME
                """.replace("UPSTREAM", upstream.toString());
        project.write("specs/greeter/greeter.spec", spec);
        project.write("specs/greeter/sources", "SHA512 (greeter-1.0.sh) = " + sha512 + "\n");
        project.commit("greeter");
        Map<String, String> env = Map.of("KILN_SOURCES_FOLDER", upstream.toString());

        KilnProject.Result built = project.run(List.of("build", "greeter"), env);
        assertThat(built.exitCode()).as(built.describe()).isZero();
        assertThat(built.stderr()).contains("greeter-1.0-1.el9");
        try (RepositoryServer server = RepositoryServer.start(project.repository(), "127.0.0.1", 0)) {
            Path root = Files.createDirectories(tmp.resolve("installroot"));
            TestRpms.Run dnf = TestRpms.dnf(root, server.uri(), "install", "greeter");
            assertThat(dnf.exitCode()).as(dnf.output()).isZero();
            assertThat(dnf.output()).contains("greeter-1.0-1.el9");
            assertThat(root.resolve("opt/company/bin/greeter")).content().contains("greetings from");
            assertThat(root.resolve("opt/company/NAME")).content().isEqualTo("GREETER\n");
        }

        // Nothing changed: the spec is read from the cache, no container reads it.
        KilnProject.Result again = project.run(List.of("build", "greeter"), env);
        assertThat(again.exitCode()).as(again.describe()).isZero();
        assertThat(again.stderr()).contains("up to date").doesNotContain("spec(s) with rpm");

        // The spec changes without a new Release: rebuilt on the builder's %dist, .el9 becomes .el9.rb1.
        project.write("specs/greeter/greeter.spec", spec.replace("%description\n", "%description\nRebuilt.\n"));
        project.commit("greeter: description");
        KilnProject.Result rebuilt = project.run(List.of("build", "greeter", "--json"), env);
        assertThat(rebuilt.exitCode()).as(rebuilt.describe()).isZero();
        assertThat(rebuilt.stdout()).contains("greeter-1.0-1.el9.rb1.noarch");
        assertThat(rebuilt.stderr()).contains("read 1 spec(s) with rpm");
    }
}
