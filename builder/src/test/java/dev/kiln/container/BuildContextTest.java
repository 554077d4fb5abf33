package dev.kiln.container;

import dev.kiln.KilnException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BuildContextTest {

    private static BuildContext dockerfile(String text) {
        return new BuildContext("b", Map.of("Dockerfile", text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void acceptsKilnBaseAndDigestPinnedFrom() {
        assertThat(dockerfile("ARG KILN_BASE\nFROM ${KILN_BASE}\n").checkFromLines()).isTrue();
        assertThat(dockerfile("FROM $KILN_BASE AS build\nFROM build\n").checkFromLines()).isTrue();
        assertThat(dockerfile("FROM docker.io/library/debian@sha256:" + "a".repeat(64) + "\n").checkFromLines()).isFalse();
        assertThat(dockerfile("from --platform=linux/amd64 debian:bookworm@sha256:" + "b".repeat(64) + " as x\n").checkFromLines()).isFalse();
    }

    @Test
    void refusesTaggedFromWithTheLineAndTheFix() {
        assertThatThrownBy(() -> dockerfile("# c\nARG X\nFROM debian:bookworm\n").checkFromLines())
                .isInstanceOf(KilnException.class)
                .hasMessage("containers/b/Dockerfile line 3: FROM debian:bookworm is not pinned: use FROM name@sha256:<digest> or FROM ${KILN_BASE}")
                .satisfies(e -> assertThat(((KilnException) e).exitCode()).isEqualTo(KilnException.BAD_INPUT));
    }

    @Test
    void refusesLatestUntaggedAndShortDigests() {
        for (String from : new String[] {"debian:latest", "debian", "debian@sha256:abc", "${OTHER}"}) {
            assertThatThrownBy(() -> dockerfile("FROM " + from + "\n").checkFromLines())
                    .hasMessageContaining("FROM " + from + " is not pinned");
        }
    }

    @Test
    void ignoresFromInsideContinuedRunLines() {
        assertThat(dockerfile("FROM ${KILN_BASE}\nRUN echo \\\nFROM debian\n").checkFromLines()).isTrue();
    }

    @Test
    void digestIgnoresTheLockFileButSeesEveryByteAndName() {
        Map<String, byte[]> files = new HashMap<>(Map.of("Dockerfile", "FROM ${KILN_BASE}\n".getBytes(StandardCharsets.UTF_8),
                "provides", "bash\n".getBytes(StandardCharsets.UTF_8)));
        String digest = new BuildContext("b", files).digest();
        assertThat(digest).matches("sha256:[0-9a-f]{64}");

        files.put("image.lock", "name: b\n".getBytes(StandardCharsets.UTF_8));
        assertThat(new BuildContext("b", files).digest()).isEqualTo(digest);

        files.put("provides", "bash \n".getBytes(StandardCharsets.UTF_8));
        assertThat(new BuildContext("b", files).digest()).isNotEqualTo(digest);

        files.put("provides", "bash\n".getBytes(StandardCharsets.UTF_8));
        files.put("extra", new byte[0]);
        assertThat(new BuildContext("b", files).digest()).isNotEqualTo(digest);
    }

    @Test
    void refusesContextWithoutDockerfileOrWithBadName() {
        assertThatThrownBy(() -> new BuildContext("b", Map.of()))
                .hasMessage("containers/b/Dockerfile is missing: every builder needs one");
        assertThatThrownBy(() -> new BuildContext("../b", Map.of("Dockerfile", new byte[0])))
                .isInstanceOf(KilnException.class).hasMessageContaining("../b");
    }

    @Test
    void parsesProvidesWithVersionsAndComments() {
        var ctx = new BuildContext("b", Map.of("Dockerfile", new byte[0],
                "provides", "# header\nbash\n\n  /bin/sh  \nrpm-build = 4.18.0 # pinned\n".getBytes(StandardCharsets.UTF_8)));
        assertThat(ctx.provides()).containsExactly(new ProvidedCapability("bash", null),
                new ProvidedCapability("/bin/sh", null), new ProvidedCapability("rpm-build", "4.18.0"));
    }

    @Test
    void refusesProvidesLineThatIsNotACapability() {
        var ctx = new BuildContext("b", Map.of("Dockerfile", new byte[0], "provides", "bash\nrpm build\n".getBytes(StandardCharsets.UTF_8)));
        assertThatThrownBy(ctx::provides)
                .hasMessage("containers/b/provides line 2: `rpm build` is not a capability: write `name` or `name = version`, one per line");
    }
}
