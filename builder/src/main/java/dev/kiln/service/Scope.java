package dev.kiln.service;

import dev.kiln.KilnException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What a token may do: each scope includes the ones before it. */
public enum Scope {
    /** scratch builds: signed and kept with the build, never published */
    BUILD,
    /** builds that publish, and accepting the release guard's changes */
    PUBLISH,
    /** everything, including cancelling other users' builds */
    ADMIN;

    /** Whether a token of this scope may do what {@code needed} allows. */
    public boolean allows(Scope needed) {
        return compareTo(needed) >= 0;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The scope {@code text} names ({@code build}, {@code publish}, {@code admin}).
     *
     * @throws KilnException BAD_INPUT naming the value and the scopes there are
     */
    public static Scope parse(String text) {
        for (Scope s : values()) {
            if (s.label().equals(text.strip().toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw KilnException.badInput("--scope '" + text + "' is not a scope: give one of "
                + Arrays.stream(values()).map(Scope::label).collect(Collectors.joining(", ")));
    }
}
