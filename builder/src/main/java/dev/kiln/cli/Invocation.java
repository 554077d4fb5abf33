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

    /**
     * The constants of {@code options} whose flag was given, each flag named as its constant in
     * lower case with - for _ ({@code NO_PUBLISH} is {@code --no-publish}).
     */
    public <E extends Enum<E>> java.util.Set<E> flags(Class<E> options) {
        java.util.Set<E> given = java.util.EnumSet.noneOf(options);
        for (E o : options.getEnumConstants()) {
            if (flag(o.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'))) {
                given.add(o);
            }
        }
        return given;
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
