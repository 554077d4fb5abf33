package dev.kiln.specfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpecDocumentTest {

    private static final String SPEC = """
            %global ver 1.2.3
            Name:           hello
            Version:        %{ver}
            Release:        3%{?dist}
            Source0:        https://example.org/hello-%{version}.tar.gz
            Patch0:         zero.patch
            Patch1:         one.patch
            Patch2:         two.patch
            Patch3:         three.patch
            Patch4:         four.patch
            Patch5:         five.patch
            Patch6:         six.patch
            %description
            x
            %prep
            %setup -q
            # %patch -P 0 stays a comment
            %patch -P 0 -p1
            %patch -P1 -p2
            %patch 2 -p1 -b .two
            %patch -p1 3
            %patch -P 4 -P 5 -p1
            patch -p1 < %{PATCH6}
            %changelog
            * Mon Nov 23 2026 A <a@example.org> - 1.2.3-3
            - older entry mentions one.patch
            """;

    private static SpecDocument spec(String text) {
        return SpecDocument.parse("hello.spec", text);
    }

    private static String replaced(String line, String with) {
        return SPEC.replace(line + "\n", with);
    }

    @Test
    void rendersUneditedTextByteForByteWithCrlfTabsAndNoFinalNewline() {
        String text = "Name:\thello  \r\nVersion: 1\r\nRelease: 1\r\nPatch0: a.patch\r\n%prep\r\n%patch0";
        assertThat(spec(text).render()).isEqualTo(text);
    }

    @Test
    void readsPatchesWithTheirApplicationLinesAndStripLevel() {
        List<SpecDocument.Patch> patches = spec(SPEC).patches();
        assertThat(patches).extracting(SpecDocument.Patch::number).containsExactly(0, 1, 2, 3, 4, 5, 6);
        assertThat(patches).extracting(SpecDocument.Patch::appliedOn)
                .containsExactly(List.of(18), List.of(19), List.of(20), List.of(21), List.of(22), List.of(22), List.of(23));
        assertThat(patches).extracting(SpecDocument.Patch::strip).containsExactly(1, 2, 1, 1, 1, 1, 1);
    }

    @Test
    void numbersUnnumberedPatchTagsAsRpmDoes() {
        SpecDocument doc = spec("Name: x\nVersion: 1\nRelease: 1\nPatch: a.patch\nPatch5: b.patch\nPatch: c.patch\n"
                + "Patch2: d.patch\nPatch: e.patch\npatch9: f.patch\n");
        assertThat(doc.patches()).extracting(SpecDocument.Patch::number).containsExactly(0, 5, 6, 2, 7, 9);
    }

    @Test
    void bumpsVersionKeepingAlignment() {
        String text = "Name:\tx\nVersion:\t1.0   \nRelease:        4%{?dist}\n";
        assertThat(spec(text).bump("1.1").render()).isEqualTo("Name:\tx\nVersion:\t1.1   \nRelease:        1%{?dist}\n");
    }

    @Test
    void editsTheLiteralGlobalBehindVersion() {
        String out = spec(SPEC).bump("1.3.0").render();
        assertThat(out).startsWith("%global ver 1.3.0\n").contains("Version:        %{ver}\n");
    }

    @Test
    void resetsReleaseKeepingDistSuffix() {
        assertThat(release("4%{?dist}.alma")).isEqualTo("1%{?dist}.alma");
        assertThat(release("2%{?dist}.0.2")).isEqualTo("1%{?dist}.0.2");
        assertThat(release("4%{?dist}%{?_trivial}%{?_buildid}")).isEqualTo("1%{?dist}%{?_trivial}%{?_buildid}");
        assertThat(release("0.1.rc2%{?dist}")).isEqualTo("1%{?dist}");
        assertThat(release("3")).isEqualTo("1");
    }

    @Test
    void leavesAutoreleaseAlone() {
        assertThat(release("%autorelease")).isEqualTo("%autorelease");
        assertThat(release("%{autorelease}")).isEqualTo("%{autorelease}");
        assertThat(release("%autorelease -e %{?extraver}")).isEqualTo("%autorelease -e %{?extraver}");
    }

    @Test
    void resetsReleaseSetThroughALiteralDefine() {
        String out = spec("%define rel 4\nName: x\nVersion: 1\nRelease: %{rel}%{?with_x:inv}\n").bump("2").render();
        assertThat(out).isEqualTo("%define rel 1\nName: x\nVersion: 2\nRelease: %{rel}%{?with_x:inv}\n");
    }

    @Test
    void refusesSnapshotReleaseBuiltFromMacros() {
        assertThatThrownBy(() -> release("37.rebirth.%{snapshotdate}git%{shortcommit}%{?dist}"))
                .isInstanceOf(KilnException.class).hasMessageStartingWith("hello.spec:3: Release: 37.rebirth.")
                .hasMessageEndingWith("by hand");
    }

    @Test
    void splitsVersionComputedFromMacrosWhenOnlyOneSplitKeepsTheirShape() {
        String text = "%define patchlevel 15\n%define baseversion 5.3\nName: bash\nVersion: %{baseversion}.%{patchlevel}\n"
                + "Release: 2%{?dist}\n";
        assertThat(spec(text).bump("5.3.16").render()).startsWith("%define patchlevel 16\n%define baseversion 5.3\n");
        assertThat(spec(text).bump("5.4.1").render()).startsWith("%define patchlevel 1\n%define baseversion 5.4\n");
    }

    @Test
    void editsLiteralTextNextToAMacroInVersion() {
        String text = "%global major_version 5.5\nName: lua\nVersion: %{major_version}.1\nRelease: 1%{?dist}\n";
        assertThat(spec(text).bump("5.5.2").render()).contains("Version: %{major_version}.2\n").startsWith("%global major_version 5.5\n");
        assertThat(spec(text).bump("5.6.0").render()).contains("Version: %{major_version}.0\n").startsWith("%global major_version 5.6\n");
    }

    @Test
    void followsConditionalMacroInVersion() {
        String text = "%define ver 5.3\n%define patchlevel 9\nName: bash\nVersion: %{ver}%{?patchlevel:.%{patchlevel}}\nRelease: 1\n";
        assertThat(spec(text).bump("5.3.10").render()).startsWith("%define ver 5.3\n%define patchlevel 10\n");
    }

    @Test
    void refusesVersionComputedFromMacros() {
        String text = "%define a 5\n%define b 3\nName: x\nVersion: %{a}%{b}\nRelease: 1\n";
        assertThatThrownBy(() -> spec(text).bump("540"))
                .isInstanceOf(KilnException.class)
                .hasMessage("hello.spec:4: Version: %{a}%{b} cannot be split in one way only into 540 over its macros;"
                        + " change this line and the macros it uses by hand");
        String shell = "%global v 0.0.%(echo 1-2 | tr - .)\nName: x\nVersion: %v\nRelease: 1\n";
        assertThatThrownBy(() -> spec(shell).bump("1.0")).hasMessageContaining("hello.spec:3: Version: takes %v from line 1");
    }

    @Test
    void refusesVersionFromOutsideTheSpec() {
        assertThatThrownBy(() -> spec("Name: x\nVersion: %{upstream}\nRelease: 1\n").bump("2"))
                .hasMessage("hello.spec:2: Version: takes %upstream from outside this spec; change this line by hand");
    }

    @Test
    void refusesAnInvalidVersion() {
        assertThatThrownBy(() -> spec(SPEC).bump("1.3-1")).isInstanceOf(KilnException.class)
                .hasMessageContaining("hello.spec:3: '1.3-1' is not an RPM version");
        assertThatThrownBy(() -> spec(SPEC).bump("1 3")).hasMessageContaining("is not an RPM version");
    }

    @Test
    void dropsPatchAppliedWithPercentPatchDashP() {
        String out = spec(SPEC).dropPatch("zero.patch").render();
        assertThat(out).isEqualTo(replaced("Patch0:         zero.patch", "").replace("%patch -P 0 -p1\n", ""));
        assertThat(out).contains("# %patch -P 0 stays a comment");
    }

    @Test
    void dropsPatchAppliedWithGluedDashP() {
        assertThat(spec(SPEC).dropPatch(1).render())
                .isEqualTo(replaced("Patch1:         one.patch", "").replace("%patch -P1 -p2\n", ""));
    }

    @Test
    void dropsPatchAppliedByPositionalNumber() {
        assertThat(spec(SPEC).dropPatch("two.patch").render()).doesNotContain("%patch 2 -p1").doesNotContain("two.patch");
        assertThat(spec(SPEC).dropPatch("three.patch").render()).doesNotContain("%patch -p1 3").doesNotContain("three.patch");
    }

    @Test
    void rewritesPatchLineListingSeveralNumbers() {
        assertThat(spec(SPEC).dropPatch(4).render()).contains("\n%patch -P 5 -p1\n").doesNotContain("four.patch");
        assertThat(spec(SPEC).dropPatch(5).render()).contains("\n%patch -P 4 -p1\n").doesNotContain("five.patch");
    }

    @Test
    void dropsShellPatchReadingPercentPatchN() {
        assertThat(spec(SPEC).dropPatch(6).render()).doesNotContain("PATCH6").doesNotContain("six.patch");
    }

    @Test
    void dropsOldPercentPatchNForm() {
        String text = "Name: x\nVersion: 1\nRelease: 1\nPatch0001: a.patch\nPatch2: b.patch\n%prep\n%patch0001 -p1\n%patch2 -p0\n";
        SpecDocument doc = spec(text);
        assertThat(doc.patches()).extracting(SpecDocument.Patch::strip).containsExactly(1, 0);
        assertThat(doc.dropPatch(1).render()).isEqualTo("Name: x\nVersion: 1\nRelease: 1\nPatch2: b.patch\n%prep\n%patch2 -p0\n");
    }

    @Test
    void leavesAutosetupAloneWhenDroppingAPatch() {
        String text = "Name: x\nVersion: 1\nRelease: 1\nPatch: a.patch\nPatch: b.patch\n%prep\n%autosetup -p1\n";
        SpecDocument doc = spec(text);
        assertThat(doc.patches()).allSatisfy(p -> assertThat(p.automatic()).isTrue()).extracting(SpecDocument.Patch::strip)
                .containsOnly(1);
        assertThat(doc.dropPatch("a.patch").render()).isEqualTo(text.replace("Patch: a.patch\n", ""));
    }

    @Test
    void readsAutopatchRanges() {
        String text = "Name: x\nVersion: 1\nRelease: 1\nPatch0: a.patch\nPatch1: b.patch\nPatch2: c.patch\n%prep\n"
                + "%autosetup -N\n%autopatch -M0 -p1\n%patch -P 1 -p1\n%autopatch -m 2 -p0\n";
        assertThat(spec(text).patches()).extracting(SpecDocument.Patch::automatic, SpecDocument.Patch::strip)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(true, 1), org.assertj.core.groups.Tuple.tuple(false, 1),
                        org.assertj.core.groups.Tuple.tuple(true, 0));
    }

    @Test
    void refusesUnknownPatchListingThePatches() {
        assertThatThrownBy(() -> spec(SPEC).dropPatch("nine.patch"))
                .isInstanceOf(KilnException.class)
                .hasMessageStartingWith("hello.spec: no patch 'nine.patch'; the spec has: 0 zero.patch, 1 one.patch, 2 two.patch")
                .extracting(e -> ((KilnException) e).exitCode()).isEqualTo(2);
    }

    @Test
    void refusesDropThatRenumbersAPatchAppliedByNumber() {
        String text = "Name: x\nVersion: 1\nRelease: 1\nPatch: a.patch\nPatch: b.patch\n%prep\n%patch -P 1 -p1\n";
        assertThatThrownBy(() -> spec(text).dropPatch("a.patch")).hasMessageContaining("renumbers");
    }

    @Test
    void addsChangelogEntryOnTop() {
        SpecDocument bumped = spec(SPEC).bump("1.3.0");
        String out = bumped.addChangelogEntry("Jane Doe", "jane@example.org", LocalDate.of(2026, 11, 25),
                "1.3.0-1", List.of("Update to 1.3.0")).render();
        assertThat(out).endsWith("%changelog\n* Wed Nov 25 2026 Jane Doe <jane@example.org> - 1.3.0-1\n- Update to 1.3.0\n\n"
                + "* Mon Nov 23 2026 A <a@example.org> - 1.2.3-3\n- older entry mentions one.patch\n");
    }

    @Test
    void appendsChangelogSectionWhenThereIsNone() {
        String out = spec("Name: x\nVersion: 1\nRelease: 1\n%files").addChangelogEntry("J", "j@x", LocalDate.of(2026, 11, 25),
                "1-1", List.of("- First")).render();
        assertThat(out).isEqualTo("Name: x\nVersion: 1\nRelease: 1\n%files\n\n%changelog\n* Wed Nov 25 2026 J <j@x> - 1-1\n- First\n");
    }

    @Test
    void leavesAutochangelogToRpmautospec() {
        SpecDocument doc = spec("Name: x\nVersion: 1\nRelease: %autorelease\n%changelog\n%autochangelog\n");
        assertThat(doc.changelog().automatic()).isTrue();
        assertThat(doc.addChangelogEntry("J", "j@x", LocalDate.of(2026, 11, 25), "1-1", List.of("x"))).isSameAs(doc);
    }

    private static String release(String value) {
        String text = "Name: x\nVersion: 1\nRelease: " + value + "\n";
        return spec(text).bump("2").release();
    }
}
