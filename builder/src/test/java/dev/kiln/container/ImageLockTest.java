package dev.kiln.container;

import dev.kiln.KilnException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageLockTest {

    private static final String ID = "sha256:" + "a".repeat(64);

    @Test
    void rendersACommentedHeaderAndReadsItsOwnOutputBack() {
        PinnedImage pinned = new PinnedImage("rpm-builder", ID, "sha256:" + "b".repeat(64), "sha256:" + "c".repeat(64),
                "sha256:" + "d".repeat(64), List.of(new ProvidedCapability("bash", null)));
        String text = ImageLock.of(pinned).render();
        assertThat(text).startsWith("# Written by ./kiln image build rpm-builder. Commit this file:\n")
                .contains("image: " + ID + "\n", "provides: " + pinned.providesDigest() + "\n");
        assertThat(ImageLock.parse(text, "image.lock")).isEqualTo(ImageLock.of(pinned));
    }

    @Test
    void refusesLockWithoutImageLine() {
        assertThatThrownBy(() -> ImageLock.parse("name: rpm-builder\ntoolchain: x\ncontext: y\n", "containers/rpm-builder/image.lock"))
                .isInstanceOf(KilnException.class)
                .hasMessage("containers/rpm-builder/image.lock has no `image:` line: run ./kiln image build rpm-builder to rewrite it");
    }
}
