package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.pipeline.CrashReport;
import dev.kiln.config.ConfigLoader;
import java.nio.file.Path;
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
 * into the process exit code (0 ok, 1 build failed, 2 bad input, 3 environment, 70 a bug in Kiln,
 * 130 interrupted).
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
                registry.getObject().registerCommand(org.springframework.shell.core.utils.Utils.QUIT_COMMAND);
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
            out.result("kiln " + dev.kiln.pipeline.KilnVersion.get());
            return;
        }
        if (first.equals("--help") || first.equals("-h")) {
            args = java.util.stream.Stream.concat(java.util.stream.Stream.of("help"), args.stream().skip(1)).toList();
        }
        exitCode = execute(args, out);
    }

    private int execute(List<String> args, Output out) {
        boolean json = args.contains("--json");
        try (Interruption signal = Interruption.watch()) {
            try {
                StrictCommandParser.Resolved resolved = StrictCommandParser.resolve(registry.getObject(), args);
                if (resolved == null || !(resolved.command() instanceof KilnCommand command)) {
                    throw KilnException.badInput("unknown command '" + String.join(" ", args.subList(0, Math.min(2, args.size())).stream()
                            .map(a -> dev.kiln.config.ConfigLoader.recordable("", a)).toList())
                            + "' (see ./kiln --help)");
                }
                return command.execute(resolved.rest(), out);
            } catch (KilnException e) {
                if (signal.happened()) {
                    return interrupted(out, json);
                }
                out.error(e.getMessage());
                if (json) {
                    out.json(Map.of("ok", false, "exitCode", e.exitCode(), "error", e.getMessage()));
                }
                return e.exitCode();
            } catch (RuntimeException | Error e) {
                if (signal.happened()) {
                    // An engine call cut short by the stop, not a bug.
                    return interrupted(out, json);
                }
                // A bug: one line for the person, the stack trace in a file for the report.
                Path trace = CrashReport.write(stateFolder(), args.getFirst(), e);
                String line = CrashReport.line(e, trace);
                out.error(line);
                if (json) {
                    out.json(Map.of("ok", false, "exitCode", KilnException.INTERNAL, "error", line));
                }
                return KilnException.INTERNAL;
            }
        }
    }

    private static int interrupted(Output out, boolean json) {
        KilnException stopped = KilnException.interrupted();
        out.error(stopped.getMessage());
        if (json) {
            out.json(Map.of("ok", false, "exitCode", stopped.exitCode(), "error", stopped.getMessage()));
        }
        return stopped.exitCode();
    }

    /** The configured state folder, or the default one when the configuration itself cannot be read. */
    private static Path stateFolder() {
        try {
            return ConfigLoader.load(ProjectRoot.find(), System.getenv(), Map.of()).state();
        } catch (RuntimeException e) {
            return Path.of(System.getProperty("user.home"), ".local", "state", "kiln");
        }
    }

    @Override
    public int getExitCode() {
        return exitCode;
    }
}
