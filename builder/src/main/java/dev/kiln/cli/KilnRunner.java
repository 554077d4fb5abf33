package dev.kiln.cli;

import dev.kiln.KilnException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.shell.core.ShellRunner;
import org.springframework.shell.core.command.CommandRegistry;
import org.springframework.stereotype.Component;

/**
 * Replaces Spring Shell's runner: with no arguments on a terminal it opens the interactive
 * shell; otherwise it runs exactly one command with Kiln's strict syntax and turns the outcome
 * into the process exit code (0 ok, 1 build failed, 2 bad input, 3 environment).
 */
@Component
public class KilnRunner implements ApplicationRunner, ExitCodeGenerator {

    private final ObjectProvider<CommandRegistry> registry;
    private final ObjectProvider<ShellRunner> shell;
    private int exitCode;

    public KilnRunner(ObjectProvider<CommandRegistry> registry, ObjectProvider<ShellRunner> shell) {
        this.registry = registry;
        this.shell = shell;
    }

    @Override
    public void run(ApplicationArguments arguments) throws Exception {
        List<String> args = Arrays.asList(arguments.getSourceArgs());
        Output out = Output.standard();
        if (args.isEmpty()) {
            if (System.console() != null && !"true".equalsIgnoreCase(System.getenv("CI"))) {
                shell.getObject().run(new String[0]);
                return;
            }
            out.error("no command given and no terminal to open the shell on");
            out.result(overview());
            exitCode = KilnException.BAD_INPUT;
            return;
        }
        String first = args.get(0);
        if (first.equals("--version") || first.equals("-V") || (first.equals("version") && args.size() == 1)) {
            out.result("kiln " + version());
            return;
        }
        if (first.equals("--help") || first.equals("-h") || first.equals("help")) {
            helpFor(args.subList(1, args.size()), out);
            return;
        }
        exitCode = execute(args, out);
    }

    private int execute(List<String> args, Output out) {
        boolean json = args.contains("--json");
        try {
            StrictCommandParser.Resolved resolved = StrictCommandParser.resolve(registry.getObject(), args);
            if (resolved == null || !(resolved.command() instanceof KilnCommand command)) {
                throw KilnException.badInput("unknown command '" + String.join(" ", args.subList(0, Math.min(2, args.size())))
                        + "' (see ./kiln --help)");
            }
            return command.execute(resolved.rest(), out);
        } catch (KilnException e) {
            out.error(e.getMessage());
            if (json) {
                out.json(Map.of("ok", false, "exitCode", e.exitCode(), "error", e.getMessage()));
            }
            return e.exitCode();
        } catch (RuntimeException e) {
            out.error("internal error: " + e);
            e.printStackTrace();
            if (json) {
                out.json(Map.of("ok", false, "exitCode", 1, "error", "internal error: " + e));
            }
            return KilnException.BUILD_FAILED;
        }
    }

    private void helpFor(List<String> topic, Output out) {
        if (topic.isEmpty()) {
            out.result(overview());
            return;
        }
        StrictCommandParser.Resolved resolved = StrictCommandParser.resolve(registry.getObject(), topic);
        if (resolved == null || !(resolved.command() instanceof KilnCommand command)) {
            out.error("unknown command '" + String.join(" ", topic) + "'");
            exitCode = KilnException.BAD_INPUT;
            return;
        }
        out.result(command.usage());
    }

    private String overview() {
        StringBuilder sb = new StringBuilder("Kiln " + version()
                + ": builds RPMs from Git in pinned containers, signs them and publishes them.\n\n"
                + "Usage: kiln <command> [options]   (no command on a terminal opens the interactive shell)\n\nCommands:\n");
        registry.getObject().getCommands().stream()
                .filter(KilnCommand.class::isInstance)
                .sorted(Comparator.comparing(c -> c.getName()))
                .forEach(c -> sb.append(String.format("  %-16s %s%n", c.getName(), c.getDescription())));
        sb.append("\nRun `kiln <command> --help` for its options.");
        return sb.toString();
    }

    static String version() {
        String v = KilnRunner.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    @Override
    public int getExitCode() {
        return exitCode;
    }
}
