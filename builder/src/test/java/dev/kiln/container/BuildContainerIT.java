package dev.kiln.container;

import dev.kiln.KilnException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BuildContainerIT {

    static final ContainerLimits LIMITS = new ContainerLimits(1L << 30, 512, Duration.ofMinutes(5));
    static final BuildContainer.Exchange HOME = BuildContainer.Exchange.into("/home/builder");

    static Map<String, ContainerArchive.Content> file(String name, String content) {
        return Map.of(name, ContainerArchive.Content.of(content.getBytes(StandardCharsets.UTF_8)));
    }

    static String spec(String buildRequires) {
        return """
                Name: hello-kiln
                Version: 1.0
                Release: 1
                Summary: Kiln integration test package
                License: MIT
                BuildArch: noarch
                %s
                %%description
                A tiny package built inside a Kiln build container.
                %%install
                mkdir -p %%{buildroot}/usr/share/hello-kiln
                echo hello > %%{buildroot}/usr/share/hello-kiln/hello
                %%files
                /usr/share/hello-kiln/hello
                """.formatted(buildRequires);
    }

    static final List<String> RPMBUILD = List.of("rpmbuild", "--define", "_topdir /home/builder/rpmbuild",
            "-bb", "/home/builder/rpmbuild/SPECS/hello-kiln.spec");

    @AfterEach
    void noContainerLeftBehind() {
        assertThat(TestEngine.leftoverBuildContainers()).isEmpty();
    }

    @Test
    void buildsNoarchRpmInsideAndCopiesItOut(@TempDir Path out) throws IOException {
        PinnedImage image = TestEngine.rpmBuilder();
        List<String> log = new ArrayList<>();
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), image.imageId(), LIMITS, RPMBUILD, TestEngine.env(Map.of()),
                HOME.andBack("/home/builder/rpmbuild/RPMS"))) {
            BuildContainer.Result r = c.run(file("rpmbuild/SPECS/hello-kiln.spec", spec("BuildRequires: coreutils")), log::add, out);
            assertThat(r.exitCode()).as(String.join("\n", log)).isZero();
            assertThat(r.files()).containsExactly(out.resolve("noarch/hello-kiln-1.0-1.noarch.rpm"));
            assertThat(r.files().getFirst()).isRegularFile();
        }
        try (var left = Files.list(out)) {
            assertThat(left).as("nothing but the output is left in the host folder").containsExactly(out.resolve("noarch"));
        }
        assertThat(log).anyMatch(l -> l.startsWith("Wrote: "));
    }

    @Test
    void missingBuildRequiresFailsRpmbuildInside() {
        PinnedImage image = TestEngine.rpmBuilder();
        List<String> log = new ArrayList<>();
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), image.imageId(), LIMITS, RPMBUILD, TestEngine.env(Map.of()),
                HOME)) {
            assertThat(c.run(file("rpmbuild/SPECS/hello-kiln.spec", spec("BuildRequires: gcc-c++")), log::add)).isNotZero();
        }
        assertThat(log).anyMatch(l -> l.contains("Failed build dependencies"));
        assertThat(log).anyMatch(l -> l.contains("gcc-c++ is needed"));
    }

    @Test
    void failingCommandLeavesNoContainer() {
        String id;
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), TestEngine.rpmBuilder().imageId(), LIMITS,
                List.of("sh", "-c", "echo about to fail >&2; exit 7"), TestEngine.env(Map.of()))) {
            id = c.id();
            List<String> log = new ArrayList<>();
            assertThat(c.run(log::add)).isEqualTo(7);
            assertThat(log).containsExactly("about to fail");
        }
        assertThat(TestEngine.leftoverBuildContainers()).doesNotContain(id).isEmpty();
    }

    @Test
    void timeoutKillsTheBuildAndLeavesNoContainer() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> {
            try (BuildContainer c = BuildContainer.create(TestEngine.engine(), TestEngine.rpmBuilder().imageId(),
                    new ContainerLimits(256L << 20, 64, Duration.ofSeconds(2)), List.of("sleep", "60"), TestEngine.env(Map.of()))) {
                c.run(line -> { });
            }
        }).isInstanceOf(KilnException.class)
                .hasMessageStartingWith("build timed out after 2 s")
                .satisfies(e -> assertThat(((KilnException) e).exitCode()).isEqualTo(KilnException.BUILD_FAILED));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
        assertThat(TestEngine.leftoverBuildContainers()).isEmpty();
    }

    @Test
    void hasNoNetworkInside() {
        String mirrorHost = AptMirror.forSuite("bookworm").hostName();
        List<String> log = new ArrayList<>();
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), TestEngine.rpmBuilder().imageId(), LIMITS,
                List.of("sh", "-c", "ls /sys/class/net; getent hosts \"$MIRROR\"; echo getent=$?"), TestEngine.env(Map.of("MIRROR", mirrorHost)))) {
            assertThat(c.run(log::add)).isZero();
        }
        assertThat(log).containsExactly("lo", "getent=2");
    }

    @Test
    void runsAsUid1000WithoutCapabilities() {
        List<String> log = new ArrayList<>();
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), TestEngine.rpmBuilder().imageId(), LIMITS,
                List.of("sh", "-c", "id -u; id -g; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status"), TestEngine.env(Map.of()))) {
            assertThat(c.run(log::add)).isZero();
        }
        assertThat(log).startsWith("1000", "1000")
                .contains("CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1");
    }

    @Test
    void copiedInFilesAreWritableByTheBuildUser() {
        List<String> log = new ArrayList<>();
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), TestEngine.rpmBuilder().imageId(), LIMITS,
                List.of("sh", "-c", "stat -c '%u:%g' in/a.txt && echo more >> in/a.txt && touch in/new && cat in/a.txt"), TestEngine.env(Map.of()),
                HOME)) {
            assertThat(c.run(file("in/a.txt", "first\n"), log::add)).as(String.join("\n", log)).isZero();
        }
        assertThat(log).containsExactly("1000:1000", "first", "more");
    }

    @Test
    void refusesSymlinkInBuildOutputAndWritesNothing(@TempDir Path out) throws Exception {
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), TestEngine.rpmBuilder().imageId(), LIMITS,
                List.of("sh", "-c", "mkdir out && echo fine > out/a-ok && ln -s /etc/shadow out/b-evil"), TestEngine.env(Map.of()),
                HOME.andBack("/home/builder/out"))) {
            assertThatThrownBy(() -> c.run(file("in/x", ""), line -> { }, out))
                    .isInstanceOf(KilnException.class)
                    .hasMessageContaining("out/b-evil")
                    .hasMessageContaining("link to /etc/shadow");
        }
        try (var files = Files.list(out)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void aLargeInputArrivesWholeAndAMissingOutputFolderIsNamed(@TempDir Path dir) throws IOException {
        Path big = dir.resolve("big.bin");
        byte[] block = new byte[1 << 20];
        new java.util.Random(7).nextBytes(block);
        java.security.MessageDigest sha;
        try (var out = Files.newOutputStream(big)) {
            sha = java.security.MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < 64; i++) {
                out.write(block);
                sha.update(block);
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        String expected = java.util.HexFormat.of().formatHex(sha.digest());
        List<String> log = new ArrayList<>();
        long t0 = System.nanoTime();
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), TestEngine.rpmBuilder().imageId(), LIMITS,
                List.of("sh", "-c", "sha256sum in/big.bin; cat in/small.txt; stat -c %u in/big.bin in/small.txt; echo said on stdout"), TestEngine.env(Map.of()),
                HOME.andBack("/home/builder/out"))) {
            Path host = dir.resolve("host");
            // A large file and a small one: the first goes in through the engine's archive call, the second on stdin.
            assertThatThrownBy(() -> c.run(Map.of("in/big.bin", ContainerArchive.Content.of(big),
                    "in/small.txt", ContainerArchive.Content.of("small\n".getBytes(StandardCharsets.UTF_8))), log::add, host))
                    .isInstanceOf(KilnException.class)
                    .hasMessage("The build left no /home/builder/out in its container: check that the build writes there");
            try (var left = Files.list(host)) {
                assertThat(left).as("no spool file is left behind").isEmpty();
            }
        }
        System.out.println("FIGURE 64 MiB and a small file in, create to removal: " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertThat(log).containsExactly(expected + "  in/big.bin", "small", "1000", "1000", "said on stdout");
    }

    @Test
    void anInputThatCannotBeReadKillsTheContainerAndIsThrown() {
        // A real tar that breaks off inside its file, as a source whose disk fails half-way.
        byte[] whole = ContainerArchive.pack(Map.of("in/a", new byte[64 << 10]));
        InputStream failing = new InputStream() {
            private int sent;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (sent >= 8192) {
                    throw new IOException("source unreadable half-way");
                }
                int n = Math.min(len, 8192 - sent);
                System.arraycopy(whole, sent, b, off, n);
                sent += n;
                return n;
            }
        };
        long t0 = System.nanoTime();
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), TestEngine.rpmBuilder().imageId(), LIMITS,
                List.of("sh", "-c", "echo ran"), TestEngine.env(Map.of()), HOME)) {
            List<String> log = new ArrayList<>();
            assertThatThrownBy(() -> c.run(failing, log::add))
                    .hasRootCauseMessage("source unreadable half-way");
            assertThat(log).doesNotContain("ran");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("killed at once, not at the build's time limit").isLessThan(Duration.ofSeconds(30));
        assertThat(TestEngine.leftoverBuildContainers()).isEmpty();
    }
}
