package dev.kiln.specfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SpecFileTest {

    private static final String MINIMAL = """
            %global maven_home /opt/maven
            Name:    maven
            Version: 3.9.9
            Release: 1%{?dist}
            Source0: mvn:org.apache.maven:apache-maven:%{version}:tar.gz:bin#/apache-maven-%{version}-bin.tar.gz
            Source1: settings.xml
            Patch0:  maven-enable-native-access.patch
            Patch:   unnumbered.patch
            BuildRequires: tar, gzip >= 1.10 patch
            %description
            BuildRequires: not-a-tag-here
            """;

    @Test
    void readsIdentitySourcesPatchesAndBuildRequires() {
        SpecFile spec = SpecFile.parse("specs/maven/maven.spec", MINIMAL);
        assertThat(spec.name()).isEqualTo("maven");
        assertThat(spec.version()).isEqualTo("3.9.9");
        assertThat(spec.release()).isEqualTo("1");
        assertThat(spec.sources()).extracting(SpecFile.SourceTag::fileName)
                .containsExactly("apache-maven-3.9.9-bin.tar.gz", "settings.xml");
        assertThat(spec.source(0).orElseThrow().isRemote()).isTrue();
        assertThat(spec.source(1).orElseThrow().isRemote()).isFalse();
        assertThat(spec.patches()).extracting(SpecFile.PatchTag::number, SpecFile.PatchTag::fileName, SpecFile.PatchTag::line)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0, "maven-enable-native-access.patch", 7),
                        org.assertj.core.groups.Tuple.tuple(1, "unnumbered.patch", 8));
        assertThat(spec.buildRequires()).extracting(Object::toString).containsExactly("tar", "gzip >= 1.10", "patch");
    }

    @Test
    void refusesSpecWithoutVersionNamingTheFile() {
        assertThatThrownBy(() -> SpecFile.parse("specs/x/x.spec", "Name: x\nRelease: 1\n"))
                .isInstanceOf(KilnException.class)
                .hasMessage("specs/x/x.spec: no Version: tag; add one to the preamble")
                .extracting(e -> ((KilnException) e).exitCode()).isEqualTo(2);
    }

    @Test
    void refusesUnclosedConditionalWithItsLine() {
        assertThatThrownBy(() -> SpecFile.parse("specs/x/x.spec", "Name: x\nVersion: 1\nRelease: 1\n%if 0%{?rhel}\nRequires: y\n"))
                .hasMessage("specs/x/x.spec:4: %if is never closed by %endif");
        assertThatThrownBy(() -> SpecFile.parse("specs/x/x.spec", "Name: x\nVersion: 1\nRelease: 1\n%endif\n"))
                .hasMessage("specs/x/x.spec:4: %endif without %if");
    }

    @Test
    void expandsConditionalMacros() {
        var macros = java.util.Map.of("name", "hello", "with_x", "1");
        assertThat(SpecFile.expand("%{name}-%{?dist}%{!?rhel:nonrhel}%{?with_x:yes}", macros, java.util.Map.of()))
                .isEqualTo("hello-nonrhelyes");
    }

    @Test
    void parsesTheShippedSpecs() throws IOException {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        for (String pkg : new String[] {"hello", "maven"}) {
            Path file = root.resolve("specs").resolve(pkg).resolve(pkg + ".spec");
            SpecFile spec = SpecFile.parse(file.toString(), Files.readString(file));
            assertThat(spec.name()).isEqualTo(pkg);
            assertThat(spec.patches()).isNotEmpty();
            for (SpecFile.PatchTag patch : spec.patches()) {
                assertThat(root.resolve("patches").resolve(pkg).resolve(patch.fileName())).isRegularFile();
            }
        }
    }
}
