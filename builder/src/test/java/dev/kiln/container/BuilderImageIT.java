package dev.kiln.container;

import dev.kiln.KilnException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BuilderImageIT {

    @Test
    void bootstrapsBaseAndTagsIt() {
        String base = TestEngine.base();
        assertThat(base).matches("sha256:[0-9a-f]{64}");
        assertThat(BaseImage.find(TestEngine.engine(), "bookworm")).contains(base);
    }

    @Test
    void buildsAndPinsRpmBuilder() throws Exception {
        PinnedImage pinned = TestEngine.rpmBuilder();
        String lockText = Files.readString(TestEngine.rpmBuilderLock());
        assertThat(lockText).startsWith("# Written by ./kiln image build rpm-builder.")
                .contains("image: " + pinned.imageId() + "\n", "toolchain: " + pinned.toolchainDigest() + "\n",
                        "context: " + pinned.contextDigest() + "\n", "base: " + TestEngine.base() + "\n");
        assertThat(pinned.provides()).contains(new ProvidedCapability("rpm-build", null));
        var labels = TestEngine.engine().client().inspectImageCmd(pinned.imageId()).exec().getConfig().getLabels();
        assertThat(labels).containsEntry(BuilderImage.LABEL_BUILDER, "rpm-builder")
                .containsEntry(BuilderImage.LABEL_CONTEXT, pinned.contextDigest());
    }

    @Test
    void resolveAcceptsThePinnedImage() throws Exception {
        PinnedImage pinned = TestEngine.rpmBuilder();
        List<String> said = new ArrayList<>();
        PinnedImage resolved = BuilderImage.resolve(TestEngine.engine(), "rpm-builder", TestEngine.rpmBuilderContext(),
                Files.readString(TestEngine.rpmBuilderLock()), said::add);
        assertThat(resolved.imageId()).isEqualTo(pinned.imageId());
        assertThat(resolved.toolchainDigest()).isEqualTo(pinned.toolchainDigest());
        assertThat(said).isEmpty();
    }

    @Test
    void resolveAcceptsALocalRebuildWithTheSameToolchain() throws Exception {
        PinnedImage pinned = TestEngine.rpmBuilder();
        // As if pinned on another machine: a different image id, the same packages and context.
        String lock = Files.readString(TestEngine.rpmBuilderLock())
                .replace("image: " + pinned.imageId(), "image: sha256:" + "1".repeat(64));
        PinnedImage resolved = BuilderImage.resolve(TestEngine.engine(), "rpm-builder", TestEngine.rpmBuilderContext(), lock, s -> { });
        assertThat(resolved.imageId()).isEqualTo(pinned.imageId());
    }

    @Test
    void refusesImageNotMatchingLock() throws Exception {
        PinnedImage pinned = TestEngine.rpmBuilder();
        String other = "sha256:" + "2".repeat(64);
        String lock = Files.readString(TestEngine.rpmBuilderLock())
                .replace("image: " + pinned.imageId(), "image: " + other)
                .replace("toolchain: " + pinned.toolchainDigest(), "toolchain: sha256:" + "3".repeat(64));
        assertThatThrownBy(() -> BuilderImage.resolve(TestEngine.engine(), "rpm-builder", TestEngine.rpmBuilderContext(), lock, s -> { }))
                .isInstanceOf(KilnException.class)
                .hasMessage("builder image rpm-builder is " + pinned.imageId() + ", but containers/rpm-builder/image.lock pins "
                        + other + " (toolchain " + pinned.toolchainDigest() + " vs sha256:" + "3".repeat(64)
                        + "): to re-pin run ./kiln image build rpm-builder and commit image.lock")
                .satisfies(e -> assertThat(((KilnException) e).exitCode()).isEqualTo(KilnException.BAD_INPUT));
    }

    @Test
    void refusesEditedContextThatWasNotRepinned() throws Exception {
        TestEngine.rpmBuilder();
        Map<String, byte[]> edited = new HashMap<>(TestEngine.rpmBuilderContext());
        edited.put("provides", (new String(edited.get("provides"), StandardCharsets.UTF_8) + "gcc\n").getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> BuilderImage.resolve(TestEngine.engine(), "rpm-builder", edited,
                Files.readString(TestEngine.rpmBuilderLock()), s -> { }))
                .isInstanceOf(KilnException.class)
                .hasMessageContaining("containers/rpm-builder/image.lock pins context")
                .hasMessageEndingWith("to re-pin run ./kiln image build rpm-builder and commit image.lock");
    }

    @Test
    void refusesMissingLock() {
        assertThatThrownBy(() -> BuilderImage.resolve(TestEngine.engine(), "rpm-builder", TestEngine.rpmBuilderContext(), null, s -> { }))
                .isInstanceOf(KilnException.class)
                .hasMessage("builder rpm-builder is not pinned: run ./kiln image build rpm-builder");
    }

    @Test
    void refusesUnpinnedFromBeforeTouchingTheEngine() {
        Map<String, byte[]> ctx = Map.of("Dockerfile", "# builder\nFROM debian:bookworm\nRUN true\n".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> BuilderImage.build(TestEngine.engine(), "bad", ctx, s -> { }))
                .isInstanceOf(KilnException.class)
                .hasMessage("containers/bad/Dockerfile line 2: FROM debian:bookworm is not pinned: use FROM name@sha256:<digest> or FROM ${KILN_BASE}");
    }

    @Test
    void listsBuilderImagesWithPinnedState() throws Exception {
        PinnedImage pinned = TestEngine.rpmBuilder();
        var containers = TestEngine.rpmBuilderLock().getParent().resolve("containers");
        Files.createDirectories(containers.resolve("rpm-builder"));
        Files.copy(TestEngine.rpmBuilderLock(), containers.resolve("rpm-builder/image.lock"));
        assertThat(BuilderImage.list(TestEngine.engine(), containers))
                .anySatisfy(e -> {
                    assertThat(e.name()).isEqualTo("rpm-builder");
                    assertThat(e.imageId()).isEqualTo(pinned.imageId());
                    assertThat(e.pinned()).isTrue();
                });
    }

    @Test
    void resolveRebuildsAMissingImageAndAcceptsItByToolchain() throws Exception {
        TestEngine.base();
        Map<String, byte[]> ctx = Map.of("Dockerfile",
                "ARG KILN_BASE\nFROM ${KILN_BASE}\nRUN echo tiny > /kiln-tiny\n".getBytes(StandardCharsets.UTF_8));
        var lockFile = Files.createTempFile("kiln-tiny", ".lock");
        PinnedImage pinned = BuilderImage.pin(TestEngine.engine(), "kiln-it-tiny", ctx, lockFile, s -> { });
        assertThat(TestEngine.STATE.resolve("toolchain").resolve(pinned.imageId().replace(':', '-')))
                .hasContent(pinned.toolchainDigest());
        // As on a machine that never built it: the image is gone, only the committed lock remains.
        TestEngine.engine().client().removeImageCmd(pinned.imageId()).withForce(true).exec();

        List<String> said = new ArrayList<>();
        PinnedImage resolved = BuilderImage.resolve(TestEngine.engine(), "kiln-it-tiny", ctx, Files.readString(lockFile), said::add);

        assertThat(said).contains("builder image kiln-it-tiny missing: building it ...");
        assertThat(resolved.imageId()).isNotEqualTo(pinned.imageId());
        assertThat(resolved.toolchainDigest()).isEqualTo(pinned.toolchainDigest());
        TestEngine.engine().client().removeImageCmd(resolved.imageId()).withForce(true).exec();
    }
}
