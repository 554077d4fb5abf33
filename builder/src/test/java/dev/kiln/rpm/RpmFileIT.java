package dev.kiln.rpm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads dependencies, scriptlets, file attributes and the source RPM from headers rpmbuild wrote. */
class RpmFileIT {

    private static final String SPEC = """
            Name: kiln-hdr
            Version: 1.0
            Release: 3
            Summary: header test
            License: MIT
            BuildArch: noarch
            Provides: kiln-hdr-api = 2
            Requires: bash >= 4
            Requires(post): coreutils
            Obsoletes: kiln-old < 1.0
            Conflicts: kiln-bad
            %description
            d
            %package extra
            Summary: e
            Requires: %{name} = %{version}-%{release}
            %description extra
            e
            %install
            mkdir -p %{buildroot}/opt/kiln-hdr/bin %{buildroot}/opt/kiln-hdr/conf
            echo x > %{buildroot}/opt/kiln-hdr/bin/tool
            echo c > %{buildroot}/opt/kiln-hdr/conf/x.conf
            ln -s bin/tool %{buildroot}/opt/kiln-hdr/link
            %post
            echo installed
            %postun -p /sbin/ldconfig
            %pretrans -p <lua>
            print("x")
            %files
            %dir /opt/kiln-hdr
            %dir /opt/kiln-hdr/bin
            %attr(0750,nobody,nogroup) /opt/kiln-hdr/bin/tool
            %config(noreplace) /opt/kiln-hdr/conf/x.conf
            /opt/kiln-hdr/link
            %ghost /opt/kiln-hdr/state
            %files extra
            %changelog
            """;

    private static List<RpmFile> rpms;

    @BeforeAll
    static void build(@TempDir Path work) throws Exception {
        rpms = TestRpms.binaries(work, SPEC).stream().map(RpmFile::read).toList();
    }

    private static RpmFile rpm(String name) {
        return rpms.stream().filter(r -> r.nevra().name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void readsSourceRpmAndDerivesTheSourceNameSharedBySubpackages() {
        assertThat(rpm("kiln-hdr").sourceRpm()).isEqualTo("kiln-hdr-1.0-3.src.rpm");
        assertThat(rpms).extracting(RpmFile::sourceName).containsOnly("kiln-hdr");
        assertThat(rpm("kiln-hdr").evr()).isEqualTo("1.0-3");
    }

    @Test
    void readsDependenciesWithTheirOperators() {
        RpmFile main = rpm("kiln-hdr");
        assertThat(main.provides()).extracting(Object::toString)
                .contains("kiln-hdr-api = 2", "kiln-hdr = 1.0-3");
        assertThat(main.requires()).extracting(Object::toString).contains("bash >= 4", "coreutils");
        assertThat(main.requires()).filteredOn(RpmFile.Dependency::rpmlib).isNotEmpty()
                .allMatch(d -> d.name().startsWith("rpmlib("));
        assertThat(main.obsoletes()).extracting(Object::toString).containsExactly("kiln-old < 1.0");
        assertThat(main.conflicts()).extracting(Object::toString).containsExactly("kiln-bad");
        assertThat(rpm("kiln-hdr-extra").requires()).extracting(Object::toString).contains("kiln-hdr = 1.0-3");
    }

    @Test
    void readsScriptletsWithTheirInterpreters() {
        Map<String, RpmFile.Scriptlet> scripts = rpm("kiln-hdr").scriptlets().stream()
                .collect(Collectors.toMap(RpmFile.Scriptlet::name, Function.identity()));
        assertThat(scripts).containsOnlyKeys("pretrans", "post", "postun");
        assertThat(scripts.get("post").interpreter()).isEqualTo("/bin/sh");
        assertThat(scripts.get("post").body()).contains("echo installed");
        assertThat(scripts.get("postun").interpreter()).isEqualTo("/sbin/ldconfig");
        assertThat(scripts.get("pretrans").interpreter()).isEqualTo("<lua>");
        assertThat(scripts.get("pretrans").body()).contains("print(\"x\")");
    }

    @Test
    void readsFileOwnersModesLinksFlagsAndDigests() {
        Map<String, RpmFile.Entry> files = rpm("kiln-hdr").files().stream()
                .collect(Collectors.toMap(RpmFile.Entry::path, Function.identity()));
        RpmFile.Entry tool = files.get("/opt/kiln-hdr/bin/tool");
        assertThat(tool.user()).isEqualTo("nobody");
        assertThat(tool.group()).isEqualTo("nogroup");
        assertThat(tool.permissions()).isEqualTo(0750);
        assertThat(tool.digest()).hasSizeGreaterThanOrEqualTo(64);
        assertThat(files.get("/opt/kiln-hdr/link").symlink()).isTrue();
        assertThat(files.get("/opt/kiln-hdr/link").linkTo()).isEqualTo("bin/tool");
        assertThat(files.get("/opt/kiln-hdr/conf/x.conf").config()).isTrue();
        assertThat(files.get("/opt/kiln-hdr/state").ghost()).isTrue();
        assertThat(files.get("/opt/kiln-hdr").directory()).isTrue();
        assertThat(tool.config()).isFalse();
        assertThat(tool.ghost()).isFalse();
    }
}
