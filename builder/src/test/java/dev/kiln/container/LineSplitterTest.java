package dev.kiln.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {

    private final List<String> lines = new ArrayList<>();

    private void feed(LineSplitter s, String text, int chunk) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i += chunk) {
            s.accept(bytes, i, Math.min(chunk, bytes.length - i));
        }
    }

    @Test
    void reassemblesLinesSplitAcrossFrames() {
        LineSplitter s = new LineSplitter(lines::add, 64);
        feed(s, "first line\nsecond\n\nlast without newline", 3);
        s.flush();
        assertThat(lines).containsExactly("first line", "second", "", "last without newline");
    }

    @Test
    void cutsALineWithoutNewlineIntoMarkedPiecesOfBoundedSize() {
        LineSplitter s = new LineSplitter(lines::add, 16);
        feed(s, "a".repeat(40) + "\nnext\n", 7);
        String marker = LineSplitter.cutMarker(16);
        assertThat(lines).containsExactly("a".repeat(16) + marker, "a".repeat(16) + marker, "a".repeat(8), "next");
    }

    @Test
    void neverCutsInsideAUtf8Character() {
        LineSplitter s = new LineSplitter(lines::add, 16);
        feed(s, "é".repeat(20) + "\n", 5);   // two bytes each: 16 bytes hold 8 whole characters
        String marker = LineSplitter.cutMarker(16);
        assertThat(lines).containsExactly("é".repeat(8) + marker, "é".repeat(8) + marker, "é".repeat(4));
        lines.clear();
        feed(s, "x" + "€".repeat(10) + "\n", 4); // three bytes each, after one byte: 15 bytes fit
        assertThat(lines.getFirst()).isEqualTo("x" + "€".repeat(5) + marker);
        assertThat(String.join("", lines).replace(marker, "")).isEqualTo("x" + "€".repeat(10));
    }

    @Test
    void aGigabyteWithoutNewlineNeedsOnlyTheLineBuffer() {
        long[] pieces = {0};
        LineSplitter s = new LineSplitter(line -> pieces[0]++, ContainerLimits.LOG_LINE_BYTES);
        byte[] frame = new byte[1 << 20];
        java.util.Arrays.fill(frame, (byte) 'y');
        for (int i = 0; i < 1024; i++) {
            s.accept(frame, 0, frame.length);
        }
        s.flush();
        assertThat(pieces[0]).isEqualTo((1L << 30) / ContainerLimits.LOG_LINE_BYTES);
    }
}
