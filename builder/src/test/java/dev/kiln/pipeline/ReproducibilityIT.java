package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.PayloadManifest;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Builds the same spec twice with the host's real rpmbuild and compares the outputs. */
class ReproducibilityIT {

    private static final String SPEC = """
            Name: kiln-repro
            Version: 1.0
            Release: 1
            Summary: Kiln reproducibility test
            License: MIT
            BuildArch: noarch
            %%description
            A package built twice.
            %%package extra
            Summary: A subpackage
            %%description extra
            The subpackage.
            %%install
            mkdir -p %%{buildroot}/usr/share/kiln-repro
            echo fixed > %%{buildroot}/usr/share/kiln-repro/fixed.txt
            echo extra > %%{buildroot}/usr/share/kiln-repro/extra.txt
            %s
            %%files
            /usr/share/kiln-repro/fixed.txt
            %s
            %%files extra
            /usr/share/kiln-repro/extra.txt
            """;

    @TempDir
    Path dir;

    @Test
    void sameSpecTwiceWithSourceDateEpochGivesIdenticalPayloads() throws IOException {
        String spec = SPEC.formatted("", "");
        List<Path> first = build(spec, "one");
        List<Path> second = build(spec, "two");
        // Signing the second build changes its bytes but not its payload.
        SigningKey key = KeyGenerator.generate(dir.resolve("k.asc"), dir.resolve("k.pub.asc"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
        second.forEach(new RpmSigner(key)::sign);

        Reproducibility.Report report = Reproducibility.compare(first, second);

        assertThat(report.reproducible()).as(report.render()).isTrue();
        assertThat(report.packages()).extracting(Reproducibility.PackageComparison::name)
                .containsExactly("kiln-repro-extra.noarch", "kiln-repro.noarch");
        assertThat(report.packages()).allSatisfy(p -> assertThat(p.firstDigest()).matches("[0-9a-f]{64}"));
        PayloadManifest m = PayloadManifest.read(first.getLast());
        assertThat(m.digestAlgorithm()).isEqualTo("SHA-256");
        assertThat(m.uncompressedPayloadDigest()).matches("[0-9a-f]{64}");
        assertThat(m.files()).singleElement().satisfies(f -> {
            assertThat(f.mtime()).isEqualTo(1_700_000_000L);
            assertThat(f.size()).isEqualTo(6);
            assertThat(f.permissions()).isEqualTo(0644);
        });
        // What rpm itself prints for the same tags.
        TestRpms.Run rpm = TestRpms.run("rpm", "-qp", "--qf", "%{PAYLOADDIGEST}", first.getLast().toString());
        assertThat(rpm.output().strip()).isEqualTo(m.payloadDigest());
    }

    @Test
    void aTimestampWrittenAtInstallTimeMakesThePayloadDifferAndIsNamed() throws IOException {
        String spec = SPEC.formatted("date +%%s%%N > %{buildroot}/usr/share/kiln-repro/stamp", "/usr/share/kiln-repro/stamp");
        List<Path> first = build(spec, "one");
        List<Path> second = build(spec, "two");

        Reproducibility.Report report = Reproducibility.compare(first, second);

        assertThat(report.reproducible()).isFalse();
        Reproducibility.PackageComparison main = report.packages().get(1);
        assertThat(main.name()).isEqualTo("kiln-repro.noarch");
        assertThat(main.status()).isEqualTo(Reproducibility.Status.DIFFERENT);
        assertThat(main.files()).singleElement().satisfies(f -> {
            assertThat(f.path()).isEqualTo("/usr/share/kiln-repro/stamp");
            assertThat(f.fields()).containsExactly("digest");
        });
        // The subpackage does not contain the stamp and stays identical.
        assertThat(report.packages().get(0).status()).isEqualTo(Reproducibility.Status.IDENTICAL);
        assertThat(report.render()).contains("kiln-repro.noarch: payload differs").contains("  /usr/share/kiln-repro/stamp: digest");
    }

    @Test
    void withoutSourceDateEpochTheFileMtimesDifferAndAreNamed() throws IOException {
        String spec = SPEC.formatted("", "");
        List<Path> first = build(spec, "one", false);
        sleepPastASecond();
        List<Path> second = build(spec, "two", false);

        Reproducibility.Report report = Reproducibility.compare(first, second);

        assertThat(report.reproducible()).isFalse();
        assertThat(report.packages()).allSatisfy(p -> {
            assertThat(p.status()).isEqualTo(Reproducibility.Status.DIFFERENT);
            assertThat(p.files()).singleElement().satisfies(f -> assertThat(f.fields()).containsExactly("mtime"));
        });
    }

    @Test
    void aPackageOnlyOneBuildMadeIsReported() throws IOException {
        List<Path> first = build(SPEC.formatted("", ""), "one");
        Reproducibility.Report report = Reproducibility.compare(first, first.subList(1, 2));
        assertThat(report.reproducible()).isFalse();
        assertThat(report.packages()).extracting(Reproducibility.PackageComparison::status)
                .containsExactly(Reproducibility.Status.IDENTICAL, Reproducibility.Status.ONLY_IN_FIRST);
    }

    private static void sleepPastASecond() {
        try {
            Thread.sleep(1100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private List<Path> build(String specText, String name) throws IOException {
        return build(specText, name, true);
    }

    /** Runs rpmbuild -bb the way Kiln's build script does, in its own top dir; returns the RPMs sorted by file name. */
    private List<Path> build(String specText, String name, boolean sourceDateEpoch) throws IOException {
        Path top = Files.createDirectories(dir.resolve(name));
        Path spec = Files.writeString(top.resolve("kiln-repro.spec"), specText);
        List<String> command = new ArrayList<>(List.of("rpmbuild", "-bb", "--define", "_topdir " + top,
                "--define", "_dbpath " + top.resolve("db"), "--define", "_buildhost x"));
        if (sourceDateEpoch) {
            command.addAll(0, List.of("env", "SOURCE_DATE_EPOCH=1700000000"));
            command.addAll(List.of("--define", "use_source_date_epoch_as_buildtime 1", "--define", "clamp_mtime_to_source_date_epoch 1"));
        } else {
            command.addAll(0, List.of("env", "-u", "SOURCE_DATE_EPOCH"));
        }
        command.add(spec.toString());
        TestRpms.Run run = TestRpms.run(command);
        assertThat(run.exitCode()).as(run.output()).isZero();
        try (Stream<Path> files = Files.walk(top.resolve("RPMS"))) {
            return files.filter(p -> p.toString().endsWith(".rpm")).sorted().toList();
        }
    }
}
