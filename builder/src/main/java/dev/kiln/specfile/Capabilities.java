package dev.kiln.specfile;

import dev.kiln.rpm.RpmVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The capabilities a builder image offers to BuildRequires, and the check of a spec's
 * requirements against them with rpm's version comparison.
 */
public final class Capabilities {

    private final Map<String, String> provided;

    private Capabilities(Map<String, String> provided) {
        this.provided = provided;
    }

    /** Capabilities by name; an empty version means unversioned. */
    public static Capabilities of(Map<String, String> provided) {
        return new Capabilities(new TreeMap<>(provided));
    }

    /** The requirements these capabilities do not satisfy, in spec order. */
    public List<EvaluatedSpec.Requirement> unsatisfied(List<EvaluatedSpec.Requirement> requirements) {
        List<EvaluatedSpec.Requirement> missing = new ArrayList<>();
        for (EvaluatedSpec.Requirement r : requirements) {
            if (!satisfies(r)) {
                missing.add(r);
            }
        }
        return missing;
    }

    private boolean satisfies(EvaluatedSpec.Requirement r) {
        if (!provided.containsKey(r.capability())) {
            return false;
        }
        String version = provided.get(r.capability());
        if (r.operator().isEmpty() || version.isEmpty()) {
            // an unversioned provide satisfies any version, as in rpm
            return true;
        }
        int c = RpmVersion.compare(version, r.version());
        return switch (r.operator()) {
            case "=", "==" -> c == 0;
            case ">=" -> c >= 0;
            case "<=" -> c <= 0;
            case ">" -> c > 0;
            case "<" -> c < 0;
            default -> false;
        };
    }
}
