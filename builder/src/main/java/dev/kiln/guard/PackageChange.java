package dev.kiln.guard;

import dev.kiln.rpm.Nevra;
import java.util.List;

/** What happened to one binary package (matched by name) between the released build and the candidate. */
public sealed interface PackageChange {

    String name();

    /** Whether this change alone must stop the publish. */
    boolean blocks();

    /** A subpackage the released build does not have: an addition, reported only. */
    record Added(String name, Nevra candidate, int paths) implements PackageChange {
        @Override
        public boolean blocks() {
            return false;
        }
    }

    /** A package the released build had and the candidate does not: whoever installs it is left behind. */
    record Disappeared(String name, Nevra released) implements PackageChange {
        @Override
        public boolean blocks() {
            return true;
        }
    }

    /** A package in both builds, with what differs (possibly nothing). */
    record Compared(String name, Nevra released, Nevra candidate, PathChanges paths,
            List<DependencyChange> dependencies, List<ScriptletChange> scriptlets) implements PackageChange {

        public Compared {
            dependencies = List.copyOf(dependencies);
            scriptlets = List.copyOf(scriptlets);
        }

        @Override
        public boolean blocks() {
            return paths.blocks() || dependencies.stream().anyMatch(DependencyChange::blocks);
        }

        public boolean unchanged() {
            return paths.isEmpty() && dependencies.isEmpty() && scriptlets.isEmpty();
        }
    }
}
