package dev.kiln.guard;

import java.util.List;

/**
 * One capability name whose entries differ between the releases. {@code before} and {@code after}
 * are the constraints as rpm prints them ({@code = 1}, {@code >= 4}, empty string for an unversioned
 * entry); an empty list means the name is absent on that side.
 */
public record DependencyChange(Relation relation, String name, List<String> before, List<String> after) {

    /** Which dependency list of the package the name belongs to. */
    public enum Relation {
        PROVIDES, REQUIRES, OBSOLETES, CONFLICTS;

        String label() {
            return name().toLowerCase();
        }
    }

    /** Whether the name appeared, disappeared, or kept its name with other constraints. */
    public enum Kind {
        ADDED, REMOVED, CHANGED
    }

    public DependencyChange {
        before = List.copyOf(before);
        after = List.copyOf(after);
    }

    public Kind kind() {
        return before.isEmpty() ? Kind.ADDED : after.isEmpty() ? Kind.REMOVED : Kind.CHANGED;
    }

    /** A capability other packages may require is gone; a changed constraint is not a removal. */
    public boolean blocks() {
        return relation == Relation.PROVIDES && kind() == Kind.REMOVED;
    }

    @Override
    public String toString() {
        return switch (kind()) {
            case ADDED -> describe(after);
            case REMOVED -> describe(before);
            case CHANGED -> describe(before) + " -> " + describe(after);
        };
    }

    private String describe(List<String> constraints) {
        return String.join(", ", constraints.stream().map(c -> c.isEmpty() ? name : name + " " + c).toList());
    }
}
