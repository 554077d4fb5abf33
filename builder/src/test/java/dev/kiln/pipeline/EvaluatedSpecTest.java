package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import dev.kiln.KilnException;
import dev.kiln.specfile.EvaluatedSpec;
import dev.kiln.specfile.SpecDocument;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What Kiln reads from a spec is what rpm (Debian's 4.18, the default builder's) makes of it. */
class EvaluatedSpecTest {

    private static final String HEAD = "Summary: s\nLicense: MIT\n";

    @Test
    void readsIdentitySourcesPatchesAndBuildRequiresAsRpmNumbersThem() {
        EvaluatedSpec spec = HostSpecs.spec("maven", """
                %global maven_home /opt/maven
                Name:    maven
                Version: 3.9.9
                Release: 1%{?dist}
                Summary: s
                License: Apache-2.0
                Source0: mvn:org.apache.maven:apache-maven:%{version}:tar.gz:bin#/apache-maven-%{version}-bin.tar.gz
                Source1: settings.xml
                Patch0:  maven-enable-native-access.patch
                Patch:   unnumbered.patch
                BuildRequires: tar, gzip >= 1.10 patch
                %description
                BuildRequires: not-a-tag-here
                """);
        assertThat(spec.name()).isEqualTo("maven");
        assertThat(spec.version()).isEqualTo("3.9.9");
        assertThat(spec.release()).isEqualTo("1");
        assertThat(spec.sources()).extracting(EvaluatedSpec.SourceTag::number, EvaluatedSpec.SourceTag::fileName)
                .containsExactly(tuple(0, "apache-maven-3.9.9-bin.tar.gz"), tuple(1, "settings.xml"));
        assertThat(spec.source(0).orElseThrow().isRemote()).isTrue();
        assertThat(spec.source(1).orElseThrow().isRemote()).isFalse();
        assertThat(spec.patches()).extracting(EvaluatedSpec.PatchTag::number, EvaluatedSpec.PatchTag::fileName,
                EvaluatedSpec.PatchTag::line)
                .containsExactly(tuple(0, "maven-enable-native-access.patch", 9), tuple(1, "unnumbered.patch", 10));
        assertThat(spec.buildRequires()).extracting(Object::toString).containsExactlyInAnyOrder("tar", "gzip >= 1.10", "patch");
        assertThat(spec.buildRequires()).allSatisfy(r -> assertThat(r.line()).isEqualTo(11));
    }

    @Test
    void urlIsDefinedFromTheUrlTagAsRpmDoes() {
        EvaluatedSpec spec = HostSpecs.spec("hello", "Name: hello\nVersion: 1.2\nRelease: 1\n" + HEAD
                + "URL: https://example.org/hello\nSource0: %{url}/archive/v%{version}/%{name}-%{version}.tar.gz\n%description\nx\n");
        assertThat(spec.source(0).orElseThrow().value()).isEqualTo("https://example.org/hello/archive/v1.2/hello-1.2.tar.gz");
        assertThat(spec.source(0).orElseThrow().fileName()).isEqualTo("hello-1.2.tar.gz");
    }

    @Test
    void aSourceInAFalseConditionalIsNotASource() {
        EvaluatedSpec spec = HostSpecs.spec("hello", "Name: hello\nVersion: 1\nRelease: 1\n" + HEAD
                + "Source0: hello.tar\n%if 0%{?rhel}\nSource40: rhel-only.conf\n%endif\n%description\nx\n");
        assertThat(spec.sources()).extracting(EvaluatedSpec.SourceTag::fileName).containsExactly("hello.tar");
    }

    @Test
    void buildAndBumpReadTheSameVersionFromConditionalGlobals() {
        String text = "%if 0%{?rhel}\n%global ver 1.0\n%else\n%global ver 2.0\n%endif\nName: hello\nVersion: %{ver}\nRelease: 1\n"
                + HEAD + "%description\nx\n";
        // Debian's rpm does not define %rhel: the %else branch holds
        assertThat(HostSpecs.spec("hello", text).version()).isEqualTo("2.0");
        Map<String, SpecEvaluator.Evaluation> el = HostSpecs.evaluate(List.of(HostSpecs.files("hello", text, Map.of())),
                "%rhel 9\n".getBytes(StandardCharsets.UTF_8));
        assertThat(el.get("hello").require().version()).isEqualTo("1.0");
    }

    @Test
    void luaAndShellExpansionsAreRunByRpm() {
        EvaluatedSpec spec = HostSpecs.spec("hello", "Name: hello\nVersion: %{lua: print(2 * 21)}\nRelease: %(echo 3)\n" + HEAD
                + "%description\nx\n");
        assertThat(spec.version()).isEqualTo("42");
        assertThat(spec.release()).isEqualTo("3");
    }

    @Test
    void theBuildersMacroFileIsUsed() {
        Map<String, SpecEvaluator.Evaluation> read = HostSpecs.evaluate(List.of(HostSpecs.files("hello",
                "Name: hello\nVersion: 1\nRelease: 1%{?dist}\n" + HEAD + "Source0: %{_company_prefix}/hello.conf\n%description\nx\n",
                Map.of())), "%_company_prefix /opt/company\n%dist .el9\n".getBytes(StandardCharsets.UTF_8));
        EvaluatedSpec spec = read.get("hello").require();
        assertThat(spec.release()).isEqualTo("1.el9");
        assertThat(spec.source(0).orElseThrow().value()).isEqualTo("/opt/company/hello.conf");
    }

    @Test
    void subpackagesAndTheirProvidesComeFromRpm() {
        EvaluatedSpec spec = HostSpecs.spec("tool", "Name: tool\nVersion: 1\nRelease: 1\n" + HEAD + "BuildArch: noarch\n"
                + "%description\nx\n%package -n libtool-kiln\nSummary: l\nProvides: tool-api = 2\n%description -n libtool-kiln\nl\n"
                + "%if 0%{?rhel}\n%package rhel\nSummary: r\n%description rhel\nr\n%endif\n");
        assertThat(spec.packages()).containsExactly("tool", "libtool-kiln");
        assertThat(spec.capabilities()).contains("tool", "libtool-kiln", "tool-api");
        assertThat(spec.buildArchs()).containsExactly("noarch");
    }

    @Test
    void aMacroTheBuilderDoesNotDefineIsNamedWithWhereToGetIt() {
        assertThatThrownBy(() -> HostSpecs.spec("fonts", "Name: fonts\nVersion: 1\nRelease: 1\n" + HEAD
                + "Source0: %{fontpkgname0}-1.tar.gz\n%description\nx\n"))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessage("specs/fonts/fonts.spec:6: Source0 '%{fontpkgname0}-1.tar.gz': %fontpkgname0 is not defined in builder"
                        + " rpm-builder (it usually comes from fonts-rpm-macros): install its macro package in"
                        + " containers/rpm-builder/Dockerfile, or define it in containers/rpm-builder/macros");
        // a macro rpm stops at is named the same way, with rpm's own words
        assertThatThrownBy(() -> HostSpecs.spec("golib", "Name: golib\nVersion: 1\nRelease: 1\n" + HEAD
                + "%gometa -L -f\n%description\nx\n"))
                .hasMessageStartingWith("specs/golib/golib.spec:6: %gometa is not defined in builder rpm-builder"
                        + " (it usually comes from go-rpm-macros)")
                .hasMessageEndingWith("(rpm: line 6: Unknown tag: %gometa -L -f)");
    }

    @Test
    void whatRpmRefusesIsSaidInItsWords() {
        assertThatThrownBy(() -> HostSpecs.spec("x", "Name: x\nRelease: 1\n" + HEAD + "%description\nx\n"))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessageStartingWith("specs/x/x.spec: rpm in builder rpm-builder cannot read this spec: Version field must be present");
        assertThatThrownBy(() -> HostSpecs.spec("x", "Name: x\nVersion: 1\nRelease: 1\n" + HEAD + "%if 0%{?rhel}\nRequires: y\n"))
                .hasMessageStartingWith("specs/x/x.spec:6: rpm in builder rpm-builder cannot read this spec: Unclosed %if");
    }

    @Test
    void readsTheShippedSpecsWithTheirPatchFiles() throws IOException {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        for (String pkg : new String[] {"hello", "maven"}) {
            Path file = root.resolve("specs").resolve(pkg).resolve(pkg + ".spec");
            EvaluatedSpec spec = HostSpecs.spec(pkg, Files.readString(file));
            assertThat(spec.name()).isEqualTo(pkg);
            assertThat(spec.patches()).isNotEmpty();
            for (EvaluatedSpec.PatchTag patch : spec.patches()) {
                assertThat(root.resolve("patches").resolve(pkg).resolve(patch.fileName())).isRegularFile();
            }
            assertThat(SpecDocument.parse(file.toString(), Files.readString(file)).render()).isEqualTo(Files.readString(file));
        }
    }
}
