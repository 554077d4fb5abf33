package dev.kiln.guard;

import java.util.List;

/**
 * A scriptlet ({@code pre}, {@code post}, {@code preun}, {@code postun}, {@code pretrans},
 * {@code posttrans}) that was added, removed, or whose interpreter or text changed. {@code diff} holds
 * the changed lines prefixed with {@code "- "} or {@code "+ "}, the interpreter as a {@code #!} line.
 */
public record ScriptletChange(String scriptlet, String before, String after, List<String> diff) {

    public ScriptletChange {
        diff = List.copyOf(diff);
    }

    public String kind() {
        return before.isEmpty() ? "added" : after.isEmpty() ? "removed" : "changed";
    }
}
