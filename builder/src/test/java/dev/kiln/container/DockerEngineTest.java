package dev.kiln.container;

import dev.kiln.KilnException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DockerEngineTest {

    @Test
    void saysTheExactCommandWhenNoEngineAnswersAtANonDefaultHost(@TempDir Path dir) {
        String host = "unix://" + dir.resolve("no-such.sock");
        List<String> said = new ArrayList<>();
        assertThatThrownBy(() -> DockerEngine.connect(host, dir, said::add))
                .isInstanceOf(KilnException.class)
                .hasMessage("No Docker engine at " + host + ": start one with `sudo apt-get install -y docker.io && sudo systemctl start docker` (or `sudo dockerd &`)")
                .satisfies(e -> assertThat(((KilnException) e).exitCode()).isEqualTo(KilnException.ENVIRONMENT));
        // A non-default host is someone else's engine: Kiln must not start one of its own for it.
        assertThat(said).isEmpty();
    }

    @Test
    void recognisesDebianAndUbuntuFamilies() {
        assertThat(HostSystem.isDebianLike(Map.of("ID", "debian"))).isTrue();
        assertThat(HostSystem.isDebianLike(Map.of("ID", "linuxmint", "ID_LIKE", "ubuntu debian"))).isTrue();
        assertThat(HostSystem.isDebianLike(Map.of("ID", "fedora"))).isFalse();
        assertThat(HostSystem.isDebianLike(Map.of())).isFalse();
    }

    @Test
    void namesTimeoutsTheWayPeopleSayThem() {
        assertThat(BuildContainer.human(java.time.Duration.ofSeconds(2))).isEqualTo("2 s");
        assertThat(BuildContainer.human(java.time.Duration.ofHours(1))).isEqualTo("60 min");
        assertThat(BuildContainer.human(java.time.Duration.ofMillis(1500))).isEqualTo("1500 ms");
    }
}
