package dev.kiln.cli;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A command's parsed arguments: option values by long name, in the order given (flags map to
 * "true"; an option given twice keeps both values), and the positionals.
 */
public record Invocation(Map<String, List<String>> options, List<String> arguments) {

    public boolean flag(String name) {
        return value(name).map("true"::equals).orElse(false);
    }

    /** The last value given for an option. */
    public Optional<String> value(String name) {
        List<String> values = options.get(name);
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getLast());
    }

    /** Every value given for a repeatable option. */
    public List<String> values(String name) {
        return options.getOrDefault(name, List.of());
    }
}
