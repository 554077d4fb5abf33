package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import dev.kiln.specfile.Capabilities;
import dev.kiln.specfile.EvaluatedSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BuildPlanTest {

    private static final Capabilities IMAGE = Capabilities.of(Map.of("make", "", "bash", ""));

    private static EvaluatedSpec spec(String name, String extra) {
        return HostSpecs.spec(name, "Name: " + name + "\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\n" + extra
                + "%description\nx\n");
    }

    private static Map<String, EvaluatedSpec> repo(EvaluatedSpec... specs) {
        Map<String, EvaluatedSpec> m = new LinkedHashMap<>();
        for (EvaluatedSpec s : specs) {
            m.put(s.name(), s);
        }
        return m;
    }

    private final Map<String, EvaluatedSpec> chain = repo(
            spec("libgreet", "BuildRequires: make\n%package devel\nSummary: d\n%description devel\nd\n"),
            spec("greeter", "BuildRequires: libgreet-devel, make\n"),
            spec("greeter-fr", "Requires: greeter\nBuildRequires: bash\n"),
            spec("zeta", "BuildRequires: greeter\n"),
            spec("solo", ""));

    @Test
    void buildsDependenciesFirstAndAddsUnreleasedOnes() {
        BuildPlan plan = BuildPlan.resolve(chain, Set.of("zeta"), IMAGE, "rpm-builder", pkg -> false);
        assertThat(plan.order()).containsExactly("libgreet", "greeter", "zeta");
        assertThat(plan.dependencies("greeter")).containsExactly("libgreet");
    }

    @Test
    void takesReleasedDependenciesFromTheRepositoryInsteadOfBuildingThem() {
        BuildPlan plan = BuildPlan.resolve(chain, Set.of("zeta"), IMAGE, "rpm-builder", pkg -> pkg.equals("greeter"));
        assertThat(plan.order()).containsExactly("zeta");
        assertThat(plan.dependencies("zeta")).containsExactly("greeter");
    }

    @Test
    void aChangeRebuildsItsDependentsOnly() {
        assertThat(BuildPlan.withDependents(chain, Set.of("libgreet"), IMAGE, "rpm-builder"))
                .containsExactly("greeter", "libgreet", "zeta");
        assertThat(BuildPlan.withDependents(chain, Set.of("solo"), IMAGE, "rpm-builder")).containsExactly("solo");
    }

    @Test
    void refusesACycleNamingIt() {
        Map<String, EvaluatedSpec> cyclic = repo(spec("a", "BuildRequires: b\n"), spec("b", "BuildRequires: c\n"), spec("c", "BuildRequires: a\n"));
        assertThatThrownBy(() -> BuildPlan.resolve(cyclic, Set.of("a"), IMAGE, "rpm-builder", p -> false))
                .isInstanceOf(KilnException.class)
                .hasMessageStartingWith("dependency cycle in BuildRequires: a -> b -> c -> a");
    }

    @Test
    void refusesABuildRequiresNobodyProvides() {
        Map<String, EvaluatedSpec> missing = repo(spec("a", "BuildRequires: make\nBuildRequires: libnothere-devel\n"));
        assertThatThrownBy(() -> BuildPlan.resolve(missing, Set.of("a"), IMAGE, "rpm-builder", p -> false))
                .hasMessage("specs/a/a.spec:7: BuildRequires libnothere-devel: nobody provides it (not builder image rpm-builder, "
                        + "not a package in specs/): add it to containers/rpm-builder/ and re-pin, or package it");
    }

    @Test
    void specWhoseNameIsNotItsFolderIsBadInputNotACrash() {
        Map<String, EvaluatedSpec> specs = new LinkedHashMap<>(chain);
        specs.put("renamed", HostSpecs.spec("renamed", "Name: other\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\n%description\nx\n"));
        assertThatThrownBy(() -> BuildPlan.resolve(specs, Set.of("renamed"), IMAGE, "rpm-builder", pkg -> false))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessage("specs/renamed/renamed.spec: Name is 'other' but the folder is specs/renamed/: make them the same");
        // a mismatched spec elsewhere does not disturb a build of another package
        assertThat(BuildPlan.resolve(specs, Set.of("solo"), IMAGE, "rpm-builder", pkg -> false).order()).containsExactly("solo");
    }
}
