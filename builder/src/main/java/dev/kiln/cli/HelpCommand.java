package dev.kiln.cli;

import dev.kiln.KilnException;
import java.util.Comparator;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.shell.core.command.CommandRegistry;
import org.springframework.stereotype.Component;

/** {@code kiln help [command]}: the list of commands, or one command's usage. */
@Component
class HelpCommand extends KilnCommand {

    private final ObjectProvider<CommandRegistry> registry;

    HelpCommand(ObjectProvider<CommandRegistry> registry) {
        super("help", "Show the commands, or one command's options", "[command]", 0, 2, List.of());
        this.registry = registry;
    }

    @Override
    protected int run(Invocation invocation, Output out) {
        if (invocation.arguments().isEmpty()) {
            out.result(overview());
            return 0;
        }
        StrictCommandParser.Resolved resolved = StrictCommandParser.resolve(registry.getObject(), invocation.arguments());
        if (resolved == null || !(resolved.command() instanceof KilnCommand command) || !resolved.rest().isEmpty()) {
            throw KilnException.badInput("unknown command '" + String.join(" ", invocation.arguments()) + "' (see ./kiln help)");
        }
        out.result(command.usage());
        return 0;
    }

    String overview() {
        StringBuilder sb = new StringBuilder("Kiln " + dev.kiln.pipeline.KilnVersion.get()
                + ": builds RPMs from Git in pinned containers, signs them and publishes them.\n\n"
                + "Usage: kiln <command> [options]   (no command on a terminal opens the interactive shell)\n\nCommands:\n");
        registry.getObject().getCommands().stream()
                .filter(KilnCommand.class::isInstance)
                .sorted(Comparator.comparing(c -> c.getName()))
                .forEach(c -> sb.append(String.format("  %-16s %s%n", c.getName(), c.getDescription())));
        sb.append("\nRun `kiln <command> --help` for its options.");
        return sb.toString();
    }
}
