package dev.kiln.cli;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A command's parsed arguments: option values by long name (flags map to "true") and positionals. */
public record Invocation(Map<String, String> options, List<String> arguments) {

    public boolean flag(String name) {
        return "true".equals(options.get(name));
    }

    public Optional<String> value(String name) {
        return Optional.ofNullable(options.get(name));
    }
}
