package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import dev.kiln.repo.repodata.ServedPrimary;
import dev.kiln.rpm.Nevra;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PrunePlanTest {

    /** A package as a primary document lists it, built from the source RPM {@code name-version-release.src.rpm}. */
    private static ServedPrimary.Package pkg(String nevra) {
        Nevra n = Nevra.parse(nevra);
        String file = n.name() + "-" + n.version() + "-" + n.release() + "." + n.arch() + ".rpm";
        return new ServedPrimary.Package(n, "sha256", Integer.toHexString(nevra.hashCode()), "Packages/" + file,
                Optional.of(n.name() + "-" + n.version() + "-" + n.release() + ".src.rpm"));
    }

    private static PrunePlan plan(int keep, String... nevras) {
        List<ServedPrimary.Package> packages = new ArrayList<>();
        for (String n : nevras) {
            packages.add(pkg(n));
        }
        Collections.shuffle(packages, new java.util.Random(7)); // the metadata's order says nothing about age
        return PrunePlan.keepNewest(packages, keep);
    }

    private static List<String> names(List<Nevra> nevras) {
        return nevras.stream().map(Nevra::toString).toList();
    }

    @Test
    void keepsTheNewestByRpmOrderNotByText() {
        PrunePlan p = plan(2, "tool-1.9-1.noarch", "tool-1.10-1.noarch", "tool-1.8-3.noarch", "tool-1.10-2.noarch");
        assertThat(names(p.kept())).containsExactly("tool-1.10-1.noarch", "tool-1.10-2.noarch");
        assertThat(names(p.removed())).containsExactly("tool-1.8-3.noarch", "tool-1.9-1.noarch");
    }

    @Test
    void anEpochOutranksAnyVersion() {
        PrunePlan p = plan(1, "tool-9.0-1.noarch", "tool-1:1.0-1.noarch", "tool-10.0-1.noarch");
        assertThat(names(p.kept())).containsExactly("tool-1:1.0-1.noarch");
        assertThat(names(p.removed())).containsExactly("tool-10.0-1.noarch", "tool-9.0-1.noarch");
    }

    @Test
    void aTildeReleaseCandidateIsOlderThanItsRelease() {
        PrunePlan p = plan(1, "tool-2.0-1.noarch", "tool-2.0~rc1-1.noarch", "tool-2.0~beta2-1.noarch");
        assertThat(names(p.kept())).containsExactly("tool-2.0-1.noarch");
        assertThat(names(p.removed())).containsExactly("tool-2.0~beta2-1.noarch", "tool-2.0~rc1-1.noarch");
    }

    @Test
    void eachNameAndArchKeepsItsOwnCount() {
        PrunePlan p = plan(1, "lib-1.0-1.x86_64", "lib-1.1-1.x86_64", "lib-1.0-1.aarch64", "lib-0.9-1.aarch64", "lib-2.0-1.noarch",
                "other-1.0-1.x86_64");
        assertThat(names(p.kept())).containsExactly("lib-1.0-1.aarch64", "lib-1.1-1.x86_64", "lib-2.0-1.noarch", "other-1.0-1.x86_64");
        assertThat(names(p.removed())).containsExactly("lib-0.9-1.aarch64", "lib-1.0-1.x86_64");
    }

    @Test
    void aCountLargerThanTheReleasesRemovesNothing() {
        PrunePlan p = plan(5, "tool-1.0-1.noarch", "tool-1.1-1.noarch");
        assertThat(p.empty()).isTrue();
        assertThat(p.files()).isEmpty();
        assertThat(names(p.kept())).containsExactly("tool-1.0-1.noarch", "tool-1.1-1.noarch");
    }

    @Test
    void removedReleasesTakeTheirProvenanceAndSourceRpmUnlessAKeptOneNamesIt() {
        // lib-1.0-1 and lib-devel-1.0-1 come from one source RPM; lib-devel has only that release, so the source RPM stays
        List<ServedPrimary.Package> packages = new ArrayList<>(List.of(pkg("lib-1.0-1.x86_64"), pkg("lib-1.1-1.x86_64"),
                pkg("tool-1.0-1.noarch"), pkg("tool-1.1-1.noarch")));
        ServedPrimary.Package devel = pkg("lib-devel-1.0-1.x86_64");
        packages.add(new ServedPrimary.Package(devel.nevra(), "sha256", "d", devel.href(), Optional.of("lib-1.0-1.src.rpm")));
        PrunePlan p = PrunePlan.keepNewest(packages, 1);
        assertThat(names(p.removed())).containsExactly("lib-1.0-1.x86_64", "tool-1.0-1.noarch");
        assertThat(p.files()).containsExactly("Packages/lib-1.0-1.x86_64.rpm", "Packages/lib-1.0-1.x86_64.rpm.provenance.json",
                "Packages/tool-1.0-1.noarch.rpm", "Packages/tool-1.0-1.noarch.rpm.provenance.json",
                "SRPMS/tool-1.0-1.src.rpm", "SRPMS/tool-1.0-1.src.rpm.provenance.json");
        assertThat(p.removedPkgids()).hasSize(2);
    }

    @Test
    void aSourceRpmNameThatIsAPathIsNeverAFileToRemove() {
        ServedPrimary.Package old = pkg("tool-1.0-1.noarch");
        List<ServedPrimary.Package> packages = List.of(pkg("tool-1.1-1.noarch"),
                new ServedPrimary.Package(old.nevra(), "sha256", "a", old.href(), Optional.of("../../etc/passwd.src.rpm")));
        assertThat(PrunePlan.keepNewest(packages, 1).files()).noneMatch(f -> f.contains(".."));
    }

    @Test
    void keepingNoneIsRefusedAsBadInput() {
        assertThatThrownBy(() -> PrunePlan.keepNewest(List.of(pkg("tool-1.0-1.noarch")), 0)).isInstanceOf(KilnException.class)
                .hasMessageContaining("--keep 0").extracting(e -> ((KilnException) e).exitCode()).isEqualTo(KilnException.BAD_INPUT);
        assertThatThrownBy(() -> PrunePlan.checkKeep(-3)).hasMessageContaining("--keep -3");
    }
}
