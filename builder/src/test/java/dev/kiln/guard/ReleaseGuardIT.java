package dev.kiln.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.TestRpms;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The release guard on real RPMs built with the host's rpmbuild: one test per kind of change. */
class ReleaseGuardIT {

    @TempDir
    Path work;

    /**
     * A package "tool" installing ROOT/bin/tool, ROOT/lib/a.jar and ROOT/conf/x.conf with its folders,
     * plus whatever a test adds; the subpackage tool-doc requires the main package at its own EVR.
     */
    record ToolSpec(String version, String release, String root, String toolAttr, String preamble,
            String install, String files, String sections) {

        static ToolSpec v1() {
            return new ToolSpec("1.0", "1", "/opt/tool", "%attr(0755,root,root)", "Provides: tool-api = 1\n", "", "", """
                    %package doc
                    Summary: docs
                    Requires: %{name} = %{version}-%{release}
                    %description doc
                    docs
                    %files doc
                    /usr/share/tool-doc
                    %post
                    echo "tool installed"
                    """);
        }

        ToolSpec release(String v, String r) {
            return new ToolSpec(v, r, root, toolAttr, preamble, install, files, sections);
        }

        ToolSpec root(String newRoot) {
            return new ToolSpec(version, release, newRoot, toolAttr, preamble, install, files, sections);
        }

        ToolSpec toolAttr(String attr) {
            return new ToolSpec(version, release, root, attr, preamble, install, files, sections);
        }

        ToolSpec preamble(String text) {
            return new ToolSpec(version, release, root, toolAttr, text, install, files, sections);
        }

        ToolSpec extraFile(String path) {
            return new ToolSpec(version, release, root, toolAttr, preamble,
                    install + "mkdir -p %{buildroot}$(dirname " + path + ") && echo extra > %{buildroot}" + path + "\n",
                    files + path + "\n", sections);
        }

        ToolSpec sections(String text) {
            return new ToolSpec(version, release, root, toolAttr, preamble, install, files, text);
        }

        String text() {
            return """
                    Name: tool
                    Version: %1$s
                    Release: %2$s
                    Summary: guard test
                    License: MIT
                    BuildArch: noarch
                    %4$s
                    %%description
                    A package the release guard compares.
                    %%install
                    mkdir -p %%{buildroot}%3$s/bin %%{buildroot}%3$s/lib %%{buildroot}%3$s/conf %%{buildroot}/usr/share/tool-doc
                    echo tool > %%{buildroot}%3$s/bin/tool
                    echo jar > %%{buildroot}%3$s/lib/a.jar
                    echo conf > %%{buildroot}%3$s/conf/x.conf
                    echo readme > %%{buildroot}/usr/share/tool-doc/README
                    %5$s
                    %%files
                    %%dir %3$s
                    %%dir %3$s/bin
                    %%dir %3$s/lib
                    %%dir %3$s/conf
                    %6$s %3$s/bin/tool
                    %3$s/lib/a.jar
                    %%config(noreplace) %3$s/conf/x.conf
                    %7$s
                    %8$s
                    %%changelog
                    """.formatted(version, release, root, preamble, install, toolAttr, files, sections);
        }
    }

    private List<RpmFile> build(ToolSpec spec) throws Exception {
        return TestRpms.binaries(work, spec.text()).stream().map(RpmFile::read).toList();
    }

    private GuardReport.Compared guard(ToolSpec released, ToolSpec candidate) throws Exception {
        GuardReport report = ReleaseGuard.check(build(candidate), build(released));
        assertThat(report).isInstanceOf(GuardReport.Compared.class);
        System.out.println(report.render());
        return (GuardReport.Compared) report;
    }

    private static PackageChange.Compared main(GuardReport.Compared report) {
        return report.packages().stream().filter(p -> p.name().equals("tool"))
                .map(PackageChange.Compared.class::cast).findFirst().orElseThrow();
    }

    @Test
    void passesANewReleaseWithIdenticalContent() throws Exception {
        GuardReport.Compared report = guard(ToolSpec.v1(), ToolSpec.v1().release("1.0", "2"));

        assertThat(report.blocks()).isFalse();
        assertThat(report.packages()).hasSize(2).allSatisfy(p ->
                assertThat(p).isInstanceOfSatisfying(PackageChange.Compared.class, c -> assertThat(c.unchanged()).isTrue()));
        assertThat(report.headline()).isEqualTo("release guard: passed: no changes");
    }

    @Test
    void blocksWhenTheInstallFolderMovedAndNamesEachMoveAndTheFolderMove() throws Exception {
        GuardReport.Compared report = guard(ToolSpec.v1(), ToolSpec.v1().release("2.0", "1").root("/opt/tool-2.0"));

        assertThat(report.blocks()).isTrue();
        PathChanges paths = main(report).paths();
        assertThat(paths.moved()).containsExactlyInAnyOrder(
                new PathMove("/opt/tool", "/opt/tool-2.0"),
                new PathMove("/opt/tool/bin", "/opt/tool-2.0/bin"),
                new PathMove("/opt/tool/lib", "/opt/tool-2.0/lib"),
                new PathMove("/opt/tool/conf", "/opt/tool-2.0/conf"),
                new PathMove("/opt/tool/bin/tool", "/opt/tool-2.0/bin/tool"),
                new PathMove("/opt/tool/lib/a.jar", "/opt/tool-2.0/lib/a.jar"),
                new PathMove("/opt/tool/conf/x.conf", "/opt/tool-2.0/conf/x.conf"));
        assertThat(paths.folderMoves()).containsExactly(new FolderMove("/opt/tool", "/opt/tool-2.0", 7));
        assertThat(paths.removed()).isEmpty();
        assertThat(paths.added()).isEmpty();
        assertThat(report.headline()).isEqualTo("release guard: BLOCKED: 7 paths moved");
        assertThat(report.render())
                .contains("tool-1.0-1.noarch -> tool-2.0-1.noarch")
                .contains("/opt/tool/ -> /opt/tool-2.0/ (whole folder, 7 paths)")
                .contains("/opt/tool/bin/tool -> /opt/tool-2.0/bin/tool")
                .contains("/opt/tool/lib/a.jar -> /opt/tool-2.0/lib/a.jar")
                .contains("/opt/tool/conf/x.conf -> /opt/tool-2.0/conf/x.conf");
    }

    @Test
    void blocksWhenAFileIsRemoved() throws Exception {
        GuardReport.Compared report = guard(ToolSpec.v1().extraFile("/usr/bin/tool-helper"), ToolSpec.v1().release("1.1", "1"));

        assertThat(report.blocks()).isTrue();
        assertThat(main(report).paths().removed()).containsExactly("/usr/bin/tool-helper");
        assertThat(main(report).paths().moved()).isEmpty();
        assertThat(report.headline()).isEqualTo("release guard: BLOCKED: 1 path removed");
        assertThat(report.render()).contains("removed (blocks):\n    /usr/bin/tool-helper");
    }

    @Test
    void passesAndReportsPureAdditions() throws Exception {
        GuardReport.Compared report = guard(ToolSpec.v1(),
                ToolSpec.v1().release("1.1", "1").extraFile("/usr/bin/tool-helper").extraFile("/etc/tool.conf"));

        assertThat(report.blocks()).isFalse();
        assertThat(main(report).paths().added()).containsExactly("/etc/tool.conf", "/usr/bin/tool-helper");
        assertThat(report.headline()).isEqualTo("release guard: passed: 2 paths added");
        assertThat(report.render()).contains("added:\n    /etc/tool.conf\n    /usr/bin/tool-helper");
    }

    @Test
    void blocksWhenAProvidesDisappears() throws Exception {
        GuardReport.Compared report = guard(ToolSpec.v1(), ToolSpec.v1().release("1.1", "1").preamble(""));

        assertThat(report.blocks()).isTrue();
        assertThat(main(report).dependencies()).containsExactly(new DependencyChange(
                DependencyChange.Relation.PROVIDES, "tool-api", List.of("= 1"), List.of()));
        assertThat(report.headline()).isEqualTo("release guard: BLOCKED: 1 Provides removed");
        assertThat(report.render()).contains("provides removed (blocks):\n    tool-api = 1");
    }

    @Test
    void reportsAChangedProvidesVersionWithoutBlocking() throws Exception {
        GuardReport.Compared report = guard(ToolSpec.v1(), ToolSpec.v1().release("1.1", "1").preamble("Provides: tool-api = 2\n"));

        assertThat(report.blocks()).isFalse();
        assertThat(main(report).dependencies()).containsExactly(new DependencyChange(
                DependencyChange.Relation.PROVIDES, "tool-api", List.of("= 1"), List.of("= 2")));
        assertThat(report.render()).contains("provides changed:\n    tool-api = 1 -> tool-api = 2");
    }

    @Test
    void reportsOwnerAndModeChangesWithoutBlocking() throws Exception {
        GuardReport.Compared report = guard(ToolSpec.v1(), ToolSpec.v1().release("1.0", "2").toolAttr("%attr(0750,nobody,nogroup)"));

        assertThat(report.blocks()).isFalse();
        assertThat(main(report).paths().attributes()).containsExactly(
                new AttributeChange("/opt/tool/bin/tool", "0755 root:root", "0750 nobody:nogroup"));
        assertThat(report.render()).contains("owner/mode changed:\n    /opt/tool/bin/tool: 0755 root:root -> 0750 nobody:nogroup");
    }

    @Test
    void reportsAChangedScriptletWithALineDiff() throws Exception {
        ToolSpec v1 = ToolSpec.v1();
        GuardReport.Compared report = guard(v1, v1.release("1.0", "2").sections(
                v1.sections().replace("echo \"tool installed\"", "echo \"tool installed\"\nmkdir -p /var/lib/tool")));

        assertThat(report.blocks()).isFalse();
        assertThat(main(report).scriptlets()).singleElement().satisfies(s -> {
            assertThat(s.scriptlet()).isEqualTo("post");
            assertThat(s.kind()).isEqualTo("changed");
            assertThat(s.diff()).containsExactly("+ mkdir -p /var/lib/tool");
        });
        assertThat(report.render()).contains("scriptlet %post changed:\n    + mkdir -p /var/lib/tool");
    }

    @Test
    void blocksWhenASubpackageDisappearsAndReportsANewOne() throws Exception {
        GuardReport.Compared report = guard(ToolSpec.v1(), ToolSpec.v1().release("1.1", "1").sections("""
                %package cli
                Summary: cli
                %description cli
                cli
                %files cli
                /usr/share/tool-doc
                %post
                echo "tool installed"
                """));

        assertThat(report.blocks()).isTrue();
        assertThat(report.packages()).anySatisfy(p -> assertThat(p).isInstanceOfSatisfying(PackageChange.Disappeared.class,
                d -> assertThat(d.released().toString()).isEqualTo("tool-doc-1.0-1.noarch")));
        assertThat(report.packages()).anySatisfy(p -> assertThat(p).isInstanceOfSatisfying(PackageChange.Added.class,
                a -> assertThat(a.name()).isEqualTo("tool-cli")));
        assertThat(report.headline()).isEqualTo("release guard: BLOCKED: 1 package disappeared");
        assertThat(report.render()).contains("tool-doc-1.0-1.noarch: disappeared from the new build (blocks)")
                .contains("tool-cli-1.1-1.noarch: new package, 2 paths");
    }

    @Test
    void reportsAnAddedRequiresWithoutBlocking() throws Exception {
        GuardReport.Compared report = guard(ToolSpec.v1(),
                ToolSpec.v1().release("1.1", "1").preamble("Provides: tool-api = 1\nRequires: bash >= 4\n"));

        assertThat(report.blocks()).isFalse();
        assertThat(main(report).dependencies()).containsExactly(new DependencyChange(
                DependencyChange.Relation.REQUIRES, "bash", List.of(), List.of(">= 4")));
        assertThat(report.headline()).isEqualTo("release guard: passed: 1 dependency changed");
        assertThat(report.render()).contains("requires added:\n    bash >= 4");
    }

    @Test
    void passesAndSaysSoWhenThereIsNoEarlierRelease() throws Exception {
        List<RpmFile> unrelated = TestRpms.binaries(work, ToolSpec.v1().text().replace("Name: tool", "Name: other"))
                .stream().map(RpmFile::read).toList();

        GuardReport report = ReleaseGuard.check(build(ToolSpec.v1()), unrelated);

        assertThat(report).isInstanceOf(GuardReport.NoEarlierRelease.class);
        assertThat(report.blocks()).isFalse();
        assertThat(report.render()).startsWith(
                "release guard: passed: no earlier release of tool in the repository, nothing to compare");
    }

    @Test
    void comparesWithTheLatestOfSeveralPublishedReleases() throws Exception {
        List<RpmFile> published = new ArrayList<>();
        for (String[] vr : new String[][] {{"1.0", "1"}, {"1.0", "2"}, {"1.10", "1"}, {"1.9", "1"}}) {
            published.addAll(build(ToolSpec.v1().release(vr[0], vr[1])));
        }

        assertThat(Releases.latest(published, "tool")).extracting(r -> r.nevra().toString())
                .containsExactlyInAnyOrder("tool-1.10-1.noarch", "tool-doc-1.10-1.noarch");
        assertThat(Releases.latestByName(published).get("tool").nevra().toString()).isEqualTo("tool-1.10-1.noarch");
        GuardReport.Compared report = (GuardReport.Compared) ReleaseGuard.check(build(ToolSpec.v1().release("1.11", "1")), published);
        assertThat(main(report).released().toString()).isEqualTo("tool-1.10-1.noarch");
    }
}
