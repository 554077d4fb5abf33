package dev.kiln.rpm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Builds tiny real RPMs with the host's rpmbuild and runs host tools, for integration tests. */
public final class TestRpms {

    private TestRpms() {
    }

    /** The result of running a host command. */
    public record Run(int exitCode, String output) {
    }

    /** Builds a noarch binary RPM that installs /usr/share/NAME/VERSION.txt; {@code payload} is e.g. "w19.zstdio", "w6.xzdio", "w9.gzdio". */
    public static Path binary(Path workDir, String name, String version, String payload) throws IOException {
        return build(workDir, name, version, payload, "-bb").stream()
                .filter(p -> !p.toString().endsWith(".src.rpm")).findFirst().orElseThrow();
    }

    /** Builds the source RPM of the same spec. */
    public static Path source(Path workDir, String name, String version) throws IOException {
        return build(workDir, name, version, "w9.gzdio", "-bs").getFirst();
    }

    private static List<Path> build(Path workDir, String name, String version, String payload, String mode) throws IOException {
        Path top = Files.createTempDirectory(workDir, "rpmbuild-");
        Path spec = top.resolve(name + ".spec");
        Files.writeString(spec, """
                Name: %1$s
                Version: %2$s
                Release: 1
                Summary: Kiln test package %1$s
                License: MIT
                BuildArch: noarch
                %%description
                A package built by Kiln's tests.
                %%install
                mkdir -p %%{buildroot}/usr/share/%1$s
                echo '%1$s %2$s' > %%{buildroot}/usr/share/%1$s/%2$s.txt
                %%files
                /usr/share/%1$s/%2$s.txt
                %%changelog
                * Mon Jan 01 2024 Kiln Tests <tests@kiln.dev> - %2$s-1
                - Test build.
                """.formatted(name, version));
        Run run = run(List.of("rpmbuild", mode, "--define", "_topdir " + top, "--define", "_dbpath " + top.resolve("db"),
                "--define", "_binary_payload " + payload, "--define", "_source_payload w9.gzdio", spec.toString()));
        assertThat(run.exitCode()).as(run.output()).isZero();
        List<Path> rpms = new ArrayList<>();
        try (var files = Files.walk(top)) {
            files.filter(p -> p.toString().endsWith(".rpm")).forEach(rpms::add);
        }
        assertThat(rpms).isNotEmpty();
        Path out = workDir.resolve(rpms.getFirst().getFileName());
        Files.move(rpms.getFirst(), out);
        return List.of(out);
    }

    /**
     * Builds every binary RPM of a complete spec text (no BuildRequires: the host has no build
     * dependencies to offer) and moves them into a fresh folder under {@code workDir}.
     */
    public static List<Path> binaries(Path workDir, String specText) throws IOException {
        Path top = Files.createTempDirectory(workDir, "rpmbuild-");
        Path spec = top.resolve("package.spec");
        Files.writeString(spec, specText);
        Run run = run(List.of("rpmbuild", "-bb", "--define", "_topdir " + top, "--define", "_dbpath " + top.resolve("db"),
                "--define", "_binary_payload w1.gzdio", spec.toString()));
        assertThat(run.exitCode()).as(run.output()).isZero();
        Path out = Files.createTempDirectory(workDir, "rpms-");
        List<Path> rpms = new ArrayList<>();
        try (var files = Files.walk(top.resolve("RPMS"))) {
            for (Path rpm : files.filter(p -> p.toString().endsWith(".rpm")).sorted().toList()) {
                rpms.add(Files.move(rpm, out.resolve(rpm.getFileName())));
            }
        }
        assertThat(rpms).isNotEmpty();
        return rpms;
    }

    /** Runs a host command, stdout and stderr merged. */
    public static Run run(List<String> command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("LC_ALL", "C.UTF-8");
        Process process = builder.start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(300, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("timed out: " + command);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return new Run(process.exitValue(), output);
    }

    public static Run run(String... command) throws IOException {
        return run(List.of(command));
    }

    /**
     * Real dnf into the empty root {@code root} from the Kiln repository served at {@code base},
     * checking package and repository signatures against the repository's public key.
     */
    public static Run dnf(Path root, java.net.URI base, String... args) throws IOException {
        String url = base.toString().replaceAll("/+$", "");
        List<String> command = new ArrayList<>(List.of("dnf", "-y", "--installroot", root.toString(),
                "--setopt=reposdir=/dev/null", "--setopt=cachedir=" + root.resolve("var/cache/dnf"),
                "--releasever=12", "--setopt=install_weak_deps=False",
                "--repofrompath=kiln," + url + "/",
                "--setopt=kiln.gpgcheck=1", "--setopt=kiln.repo_gpgcheck=1",
                "--setopt=kiln.gpgkey=" + url + "/" + dev.kiln.repo.DirectoryRepository.PUBLIC_KEY_FILE));
        command.addAll(List.of(args));
        return run(command);
    }
}
