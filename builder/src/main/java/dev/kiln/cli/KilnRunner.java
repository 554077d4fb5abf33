package dev.kiln.cli;

import dev.kiln.KilnException;
import java.util.Arrays;
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
    private final ObjectProvider<HelpCommand> help;
    private int exitCode;

    KilnRunner(ObjectProvider<CommandRegistry> registry, ObjectProvider<ShellRunner> shell, ObjectProvider<HelpCommand> help) {
        this.registry = registry;
        this.shell = shell;
        this.help = help;
    }

    @Override
    public void run(ApplicationArguments arguments) throws Exception {
        List<String> args = Arrays.asList(arguments.getSourceArgs());
        if ("1".equals(System.getenv("KILN_AOT_TRAINING"))) {
            Training.exercise(ProjectRoot.find());
        }
        Output out = Output.standard();
        if (args.isEmpty()) {
            if (System.console() != null && !"true".equalsIgnoreCase(System.getenv("CI"))) {
                shell.getObject().run(new String[0]);
                return;
            }
            out.error("no command given and no terminal to open the shell on");
            out.result(help.getObject().overview());
            exitCode = KilnException.BAD_INPUT;
            return;
        }
        String first = args.get(0);
        if (first.equals("--version") || first.equals("-V") || (first.equals("version") && args.size() == 1)) {
            out.result("kiln " + dev.kiln.build.KilnVersion.get());
            return;
        }
        if (first.equals("--help") || first.equals("-h")) {
            args = java.util.stream.Stream.concat(java.util.stream.Stream.of("help"), args.stream().skip(1)).toList();
        }
        exitCode = execute(args, out);
    }

    private int execute(List<String> args, Output out) {
        boolean json = args.contains("--json");
        try {
            StrictCommandParser.Resolved resolved = StrictCommandParser.resolve(registry.getObject(), args);
            if (resolved == null || !(resolved.command() instanceof KilnCommand command)) {
                throw KilnException.badInput("unknown command '" + String.join(" ", args.subList(0, Math.min(2, args.size())).stream()
                        .map(a -> dev.kiln.config.ConfigLoader.recordable("", a)).toList())
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

    @Override
    public int getExitCode() {
        return exitCode;
    }
}
