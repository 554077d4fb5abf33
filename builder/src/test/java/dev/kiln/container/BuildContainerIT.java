package dev.kiln.container;

import dev.kiln.KilnException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void buildsNoarchRpmInsideAndCopiesItOut(@TempDir Path out) {
        PinnedImage image = TestEngine.rpmBuilder();
        List<String> log = new ArrayList<>();
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), image.imageId(), LIMITS, RPMBUILD, TestEngine.env(Map.of()))) {
            c.copyIn(ContainerArchive.pack(Map.of("rpmbuild/SPECS/hello-kiln.spec", spec("BuildRequires: coreutils").getBytes(StandardCharsets.UTF_8))), "/home/builder");
            int rc = c.run(log::add);
            assertThat(rc).as(String.join("\n", log)).isZero();
            List<Path> files = c.copyOut("/home/builder/rpmbuild/RPMS", out);
            assertThat(files).containsExactly(out.resolve("noarch/hello-kiln-1.0-1.noarch.rpm"));
            assertThat(files.getFirst()).isRegularFile();
        }
        assertThat(log).anyMatch(l -> l.startsWith("Wrote: "));
    }

    @Test
    void missingBuildRequiresFailsRpmbuildInside() {
        PinnedImage image = TestEngine.rpmBuilder();
        List<String> log = new ArrayList<>();
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), image.imageId(), LIMITS, RPMBUILD, TestEngine.env(Map.of()))) {
            c.copyIn(ContainerArchive.pack(Map.of("rpmbuild/SPECS/hello-kiln.spec", spec("BuildRequires: gcc-c++").getBytes(StandardCharsets.UTF_8))), "/home/builder");
            assertThat(c.run(log::add)).isNotZero();
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
                List.of("sh", "-c", "stat -c '%u:%g' in/a.txt && echo more >> in/a.txt && touch in/new && cat in/a.txt"), TestEngine.env(Map.of()))) {
            c.copyIn(ContainerArchive.pack(Map.of("in/a.txt", "first\n".getBytes(StandardCharsets.UTF_8))), "/home/builder");
            assertThat(c.run(log::add)).as(String.join("\n", log)).isZero();
        }
        assertThat(log).containsExactly("1000:1000", "first", "more");
    }

    @Test
    void refusesSymlinkInBuildOutputAndWritesNothing(@TempDir Path out) throws Exception {
        try (BuildContainer c = BuildContainer.create(TestEngine.engine(), TestEngine.rpmBuilder().imageId(), LIMITS,
                List.of("sh", "-c", "mkdir out && echo fine > out/a-ok && ln -s /etc/shadow out/b-evil"), TestEngine.env(Map.of()))) {
            assertThat(c.run(line -> { })).isZero();
            assertThatThrownBy(() -> c.copyOut("/home/builder/out", out))
                    .isInstanceOf(KilnException.class)
                    .hasMessageContaining("out/b-evil")
                    .hasMessageContaining("link to /etc/shadow");
        }
        try (var files = Files.list(out)) {
            assertThat(files).isEmpty();
        }
    }
}
