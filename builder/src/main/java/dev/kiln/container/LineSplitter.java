package dev.kiln.container;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Splits one output stream of a container into lines. The engine's frames cut output at arbitrary
 * byte boundaries, so bytes are collected until a newline; a line longer than {@code maxBytes} is
 * passed on in pieces of at most that size (cut between UTF-8 characters), each piece saying so.
 */
final class LineSplitter {

    private final Consumer<String> sink;
    private final byte[] line;
    private int length;

    LineSplitter(Consumer<String> sink, int maxBytes) {
        if (maxBytes < 4) {
            throw new IllegalArgumentException("maxBytes must hold one UTF-8 character, was " + maxBytes);
        }
        this.sink = sink;
        this.line = new byte[maxBytes];
    }

    /** The suffix of a piece of a line that was too long, so a reader knows the next line continues it. */
    static String cutMarker(int maxBytes) {
        return " [kiln: line longer than " + maxBytes + " bytes cut here, it continues on the next line]";
    }

    void accept(byte[] bytes, int offset, int count) {
        int end = offset + count;
        for (int i = offset; i < end; i++) {
            byte b = bytes[i];
            if (b == '\n') {
                emit(length);
                continue;
            }
            if (length == line.length) {
                cut();
            }
            line[length++] = b;
        }
    }

    /** Passes on what is left of an unterminated last line. */
    void flush() {
        if (length > 0) {
            emit(length);
        }
    }

    private void cut() {
        // Cut before a UTF-8 character that is not complete yet, so no piece ends in half a character.
        int at = line.length;
        int back = 0;
        while (back < 3 && at - back - 1 > 0 && (line[at - back - 1] & 0xC0) == 0x80) {
            back++;
        }
        if (back < 3 && at - back - 1 > 0 && (line[at - back - 1] & 0xC0) == 0xC0
                && sequenceLength(line[at - back - 1]) > back + 1) {
            at = at - back - 1;
        }
        String piece = new String(line, 0, at, StandardCharsets.UTF_8);
        int rest = line.length - at;
        System.arraycopy(line, at, line, 0, rest);
        length = rest;
        sink.accept(piece + cutMarker(line.length));
    }

    private void emit(int count) {
        String text = new String(line, 0, count, StandardCharsets.UTF_8);
        length = 0;
        sink.accept(text);
    }

    private static int sequenceLength(byte lead) {
        if ((lead & 0xE0) == 0xC0) {
            return 2;
        }
        if ((lead & 0xF0) == 0xE0) {
            return 3;
        }
        return (lead & 0xF8) == 0xF0 ? 4 : 1;
    }
}
