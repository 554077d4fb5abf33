package dev.kiln.cli;

import dev.kiln.KilnException;
import java.util.ArrayList;
import java.util.List;
import org.springframework.shell.core.command.Command;
import org.springframework.shell.core.command.CommandArgument;
import org.springframework.shell.core.command.CommandOption;
import org.springframework.shell.core.command.CommandParser;
import org.springframework.shell.core.command.CommandRegistry;
import org.springframework.shell.core.command.DefaultCommandParser;
import org.springframework.shell.core.command.ParsedInput;

/**
 * The interactive shell's parser: Kiln commands get the same strict syntax as on the command
 * line; Spring Shell's own commands (clear, history, quit) keep the default parser.
 */
public final class StrictCommandParser implements CommandParser {

    private final CommandRegistry registry;
    private final DefaultCommandParser fallback;

    public StrictCommandParser(CommandRegistry registry) {
        this.registry = registry;
        this.fallback = new DefaultCommandParser(registry);
    }

    @Override
    public ParsedInput parse(String input) {
        List<String> tokens = tokenize(input);
        Resolved resolved = resolve(registry, tokens);
        if (resolved == null || !(resolved.command() instanceof KilnCommand kiln)) {
            return fallback.parse(input);
        }
        Invocation invocation = kiln.parse(resolved.rest());
        String[] words = kiln.getName().split(" ");
        ParsedInput.Builder builder = ParsedInput.builder().commandName(words[0]);
        for (int i = 1; i < words.length; i++) {
            builder.addSubCommand(words[i]);
        }
        invocation.options().forEach((k, values) -> values.forEach(
                v -> builder.addOption(CommandOption.with().longName(k).value(v).build())));
        for (int i = 0; i < invocation.arguments().size(); i++) {
            builder.addArgument(new CommandArgument(i, invocation.arguments().get(i)));
        }
        return builder.build();
    }

    /** A command found by its longest name prefix among the tokens, and the tokens after it. */
    public record Resolved(Command command, List<String> rest) {
    }

    public static Resolved resolve(CommandRegistry registry, List<String> tokens) {
        for (int words = Math.min(2, tokens.size()); words >= 1; words--) {
            Command command = registry.getCommandByName(String.join(" ", tokens.subList(0, words)));
            if (command != null) {
                return new Resolved(command, tokens.subList(words, tokens.size()));
            }
        }
        return null;
    }

    /** Splits a line like a POSIX shell does for words and quotes (no expansion). */
    static List<String> tokenize(String input) {
        List<String> tokens = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean inToken = false;
        char quote = 0;
        for (int i = 0; i < input.length(); i++) {
            char c = input.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < input.length()) {
                    current.append(input.charAt(++i));
                } else {
                    current.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inToken = true;
            } else if (c == '\\' && i + 1 < input.length()) {
                current.append(input.charAt(++i));
                inToken = true;
            } else if (Character.isWhitespace(c)) {
                if (inToken) {
                    tokens.add(current.toString());
                    current.setLength(0);
                    inToken = false;
                }
            } else {
                current.append(c);
                inToken = true;
            }
        }
        if (quote != 0) {
            throw KilnException.badInput("unclosed quote in: " + input);
        }
        if (inToken) {
            tokens.add(current.toString());
        }
        return tokens;
    }
}
