package dev.kiln.guard;

/** An installed path that is now somewhere else: the same file name under another folder. */
public record PathMove(String from, String to) {

    @Override
    public String toString() {
        return from + " -> " + to;
    }
}
