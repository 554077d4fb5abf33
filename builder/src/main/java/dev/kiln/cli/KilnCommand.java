package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.config.ConfigLoader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.shell.core.command.Command;
import org.springframework.shell.core.command.CommandArgument;
import org.springframework.shell.core.command.CommandContext;
import org.springframework.shell.core.command.CommandOption;
import org.springframework.shell.core.command.ExitStatus;

/**
 * A Kiln command with a strict, order-independent argument syntax: {@code --name value},
 * {@code --name=value}, flags that never take a value, positionals anywhere, {@code --} ends
 * options. Unknown options are errors. Every command also takes each kiln.yaml setting as an
 * option ({@code --builder NAME}, {@code --build.timeout 45m}).
 */
public abstract class KilnCommand implements Command {

    /** One option: {@code valueLabel} is null for a flag. */
    public record Opt(String name, String valueLabel, String description) {
        static Opt flag(String name, String description) {
            return new Opt(name, null, description);
        }

        static Opt value(String name, String valueLabel, String description) {
            return new Opt(name, valueLabel, description);
        }

        /** {@code --json}, the same on every command that has it. */
        static final Opt JSON = flag("json", "print one JSON document to stdout");
        /** {@code --target NAME}, the same on every command that takes one target. */
        static final Opt TARGET = value("target", "NAME", "a target of kiln.yaml (default: the first)");

        boolean isFlag() {
            return valueLabel == null;
        }
    }

    private final String name;
    private final String description;
    private final String argumentsLabel;
    private final int minArguments;
    private final int maxArguments;
    private final List<Opt> options;

    protected KilnCommand(String name, String description, String argumentsLabel, int minArguments, int maxArguments,
            List<Opt> options) {
        this.name = name;
        this.description = description;
        this.argumentsLabel = argumentsLabel;
        this.minArguments = minArguments;
        this.maxArguments = maxArguments;
        this.options = List.copyOf(options);
    }

    /** Runs the command and returns its exit code; user errors are thrown as {@link KilnException}. */
    protected abstract int run(Invocation invocation, Output out);

    public int execute(List<String> tokens, Output out) {
        Invocation invocation = parse(tokens);
        if (invocation.flag("help")) {
            out.result(usage());
            return 0;
        }
        return run(invocation, out);
    }

    /** Strict parse of the tokens after the command name. */
    public Invocation parse(List<String> tokens) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        List<String> positionals = new ArrayList<>();
        boolean onlyPositionals = false;
        for (int i = 0; i < tokens.size(); i++) {
            if (ConfigLoader.isSecretText(tokens.get(i))) {
                // Refused wherever it stands, and never echoed: a command line is readable by every user
                // of the host and is recorded in provenance.
                throw usageError("argument " + (i + 1) + " holds key material: a secret never goes on the command line; "
                        + "set KILN_SIGNING_KEY to the key text, or --signing.key to the path of the key file");
            }
        }
        for (int i = 0; i < tokens.size(); i++) {
            String token = tokens.get(i);
            if (onlyPositionals || !token.startsWith("-") || token.equals("-")) {
                positionals.add(token);
                continue;
            }
            if (token.equals("--")) {
                onlyPositionals = true;
                continue;
            }
            if (token.equals("-h")) {
                token = "--help";
            }
            if (!token.startsWith("--")) {
                throw usageError("unknown option " + token);
            }
            String key = token.substring(2);
            String inline = null;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                inline = key.substring(eq + 1);
                key = key.substring(0, eq);
            }
            Optional<String> refusal = ConfigLoader.settingNames().contains(key)
                    ? ConfigLoader.commandLineRefusal(key, inline == null ? "" : inline) : Optional.empty();
            if (refusal.isPresent()) {
                throw usageError(refusal.get());
            }
            Optional<Opt> opt = option(key);
            if (opt.isEmpty()) {
                throw usageError("unknown option --" + key);
            }
            if (opt.get().isFlag()) {
                if (inline != null && !inline.equals("true") && !inline.equals("false")) {
                    throw usageError("--" + key + " is a flag and takes no value");
                }
                values.computeIfAbsent(key, k -> new ArrayList<>()).add(inline == null ? "true" : inline);
                continue;
            }
            if (inline == null) {
                if (i + 1 >= tokens.size() || tokens.get(i + 1).startsWith("--")) {
                    throw usageError("--" + key + " needs a value (" + opt.get().valueLabel() + ")");
                }
                inline = tokens.get(++i);
            }
            values.computeIfAbsent(key, k -> new ArrayList<>()).add(inline);
        }
        if (!values.containsKey("help")) {
            if (positionals.size() < minArguments) {
                throw usageError("missing " + argumentsLabel);
            }
            if (positionals.size() > maxArguments) {
                throw usageError("unexpected argument '" + positionals.get(maxArguments) + "'");
            }
        }
        return new Invocation(values, List.copyOf(positionals));
    }

    private Optional<Opt> option(String key) {
        if (key.equals("help")) {
            return Optional.of(Opt.flag("help", "show this help"));
        }
        Optional<Opt> own = options.stream().filter(o -> o.name().equals(key)).findFirst();
        if (own.isPresent()) {
            return own;
        }
        if (ConfigLoader.settingNames().contains(key) && ConfigLoader.commandLineRefusal(key, "").isEmpty()) {
            return Optional.of(Opt.value(key, "VALUE", "setting from kiln.yaml"));
        }
        return Optional.empty();
    }

    private KilnException usageError(String what) {
        return KilnException.badInput(name + ": " + what + " (see ./kiln " + name + " --help)");
    }

    /** The configuration: kiln.yaml, then KILN_* variables, then setting options. */
    protected static dev.kiln.config.KilnConfig config(Invocation invocation) {
        return dev.kiln.config.ConfigLoader.load(ProjectRoot.find(), System.getenv(), settingOverrides(invocation));
    }

    /** Settings given as options, to lay over kiln.yaml and the environment. */
    protected static Map<String, String> settingOverrides(Invocation invocation) {
        Map<String, String> overrides = new LinkedHashMap<>();
        invocation.options().forEach((key, values) -> {
            if (ConfigLoader.settingNames().contains(key)) {
                overrides.put(key, values.getLast());
            }
        });
        return overrides;
    }

    public String usage() {
        StringBuilder sb = new StringBuilder();
        sb.append("Usage: kiln ").append(name);
        if (argumentsLabel != null && !argumentsLabel.isEmpty()) {
            sb.append(' ').append(argumentsLabel);
        }
        for (Opt o : options) {
            sb.append(" [--").append(o.name()).append(o.isFlag() ? "" : " " + o.valueLabel()).append(']');
        }
        sb.append("\n\n").append(description).append('\n');
        if (!options.isEmpty()) {
            sb.append("\nOptions:\n");
            for (Opt o : options) {
                String left = "--" + o.name() + (o.isFlag() ? "" : " " + o.valueLabel());
                sb.append(String.format("  %-22s %s%n", left, o.description()));
            }
        }
        sb.append("\nEvery kiln.yaml setting is also an option, e.g. --builder NAME, --repository DIR, --build.timeout 45m.\n");
        sb.append("Exit codes: 0 ok, 1 build failed, 2 bad input or configuration, 3 environment (no engine, no key).");
        return sb.toString();
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public String getDescription() {
        return description;
    }

    @Override
    public String getHelp() {
        return usage();
    }

    @Override
    public List<CommandOption> getOptions() {
        return options.stream()
                .map(o -> CommandOption.with().longName(o.name()).description(o.description())
                        .type(o.isFlag() ? Boolean.class : String.class).build())
                .toList();
    }

    /** The interactive shell's entry point: the parsed input comes from {@link StrictCommandParser}. */
    @Override
    public ExitStatus execute(CommandContext context) {
        List<String> tokens = new ArrayList<>();
        context.parsedInput().arguments().stream().sorted(java.util.Comparator.comparingInt(CommandArgument::index))
                .forEach(a -> tokens.add(a.value()));
        for (CommandOption o : context.parsedInput().options()) {
            tokens.add("--" + o.longName() + "=" + o.value());
        }
        Output out = Output.interactive(context.outputWriter());
        try {
            int code = execute(tokens, out);
            return code == 0 ? ExitStatus.OK : new ExitStatus(code, "exit code " + code);
        } catch (KilnException e) {
            out.error(e.getMessage());
            return new ExitStatus(e.exitCode(), "exit code " + e.exitCode());
        } finally {
            out.flush();
        }
    }
}
