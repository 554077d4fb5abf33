package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.pipeline.BuildListener;
import dev.kiln.pipeline.BuildOutcome;
import dev.kiln.pipeline.BuildRequest;
import dev.kiln.pipeline.BuildResult;
import dev.kiln.pipeline.BuildRun;
import dev.kiln.pipeline.BuildService;
import dev.kiln.config.ConfigLoader;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.DirectoryRepository;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** {@code kiln build}: build, sign, guard and publish packages, named, all, or those changed since a revision. */
@Component
class BuildCommand extends KilnCommand {

    BuildCommand() {
        super("build", "Build packages from specs/ in the pinned builder container, sign, guard and publish them",
                "<package>...", 0, Integer.MAX_VALUE, List.of(
                        Opt.flag("all", "build every package in specs/"),
                        Opt.value("changed-since", "REF", "build the packages changed since REF, and those that depend on them"),
                        Opt.value("rev", "REF", "build the committed content of this revision instead of the working tree"),
                        Opt.value("jobs", "N", "build up to N packages at once (default: the number of cores)"),
                        Opt.flag("keep-going", "after a failure, build the rest anyway (still publishes nothing)"),
                        Opt.flag("force", "rebuild packages the repository already holds a build of"),
                        Opt.flag("check-reproducible", "build each package twice and report any difference (no publish)"),
                        Opt.flag("no-publish", "build and sign, but do not publish to the repository"),
                        Opt.value("target", "NAME", "also publish to this target of kiln.yaml (default: the first)"),
                        Opt.flag("accept-changes", "publish even when the release guard finds moved or removed paths (recorded)"),
                        Opt.value("report-junit", "FILE", "write a JUnit XML report, one test case per package"),
                        Opt.value("remote", "URL", "build on Kiln's service at URL (default: KILN_REMOTE) with the token in KILN_TOKEN:"
                                + " no engine or key here; --no-publish makes a scratch build"),
                        Opt.flag("json", "print one JSON document with the results to stdout")));
    }

    @Override
    protected int run(Invocation invocation, Output out) {
        boolean all = invocation.flag("all");
        String changedSince = invocation.value("changed-since").orElse(null);
        int selectors = (invocation.arguments().isEmpty() ? 0 : 1) + (all ? 1 : 0) + (changedSince == null ? 0 : 1);
        if (selectors != 1) {
            throw KilnException.badInput("build: name packages, or give --all, or --changed-since REF: exactly one of them"
                    + " (see ./kiln build --help)");
        }
        Optional<String> remote = invocation.value("remote").or(() -> Optional.ofNullable(System.getenv("KILN_REMOTE"))
                .filter(v -> !v.isBlank()));
        if (remote.isPresent()) {
            return RemoteBuild.run(invocation, remote.get(), config(invocation), out);
        }
        int jobs = invocation.value("jobs").map(BuildCommand::jobs).orElse(Runtime.getRuntime().availableProcessors());
        KilnConfig config = config(invocation);
        List<String> command = new ArrayList<>(List.of("kiln", "build"));
        invocation.arguments().forEach(a -> command.add(ConfigLoader.recordable("", a)));
        // Recorded in provenance, which is published and served: no secret value goes in.
        invocation.options().forEach((k, values) -> values.forEach(v -> command.add("--" + k
                + ("true".equals(v) ? "" : "=" + ConfigLoader.recordable(k, v)))));
        BuildRequest request = new BuildRequest(selection(invocation), invocation.value("rev").orElse(null), jobs,
                invocation.flags(BuildRequest.Option.class), command);
        BuildListener listener = Progress.to(out);
        TargetConfig target = config.target(invocation.value("target"));
        BuildRun run = new BuildService(config, listener, target, System.getenv()).run(request);
        run.outcomes().stream().filter(BuildOutcome.Failed.class::isInstance)
                .forEach(f -> out.error(((BuildOutcome.Failed) f).message()));
        invocation.value("report-junit").ifPresent(file -> JunitReport.write(config.root().resolve(file), "kiln build", run.outcomes(),
                run.duration()));
        if (invocation.flag("json")) {
            out.json(run.document(config));
        } else {
            describe(config, run, out);
        }
        return run.exitCode();
    }

    /** The one selector given: named packages, --all or --changed-since (checked before). */
    static BuildRequest.Selection selection(Invocation invocation) {
        if (invocation.flag("all")) {
            return new BuildRequest.Selection.All();
        }
        return invocation.value("changed-since").<BuildRequest.Selection>map(BuildRequest.Selection.ChangedSince::new)
                .orElseGet(() -> new BuildRequest.Selection.Named(invocation.arguments()));
    }

    private static int jobs(String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw KilnException.badInput("build: --jobs '" + value + "' must be a whole number, 1 or more");
    }

    static void describe(KilnConfig config, BuildRun run, Output out) {
        for (BuildOutcome o : run.outcomes()) {
            switch (o) {
                case BuildOutcome.Built b -> describe(config, b.result(), out);
                case BuildOutcome.UpToDate u -> out.result("Up to date " + u.nevra() + " (build key " + u.buildKey() + ")");
                case BuildOutcome.Failed f -> out.result("FAILED " + f.packageName() + ": " + f.message());
                case BuildOutcome.Skipped s -> out.result("Skipped " + s.packageName() + ": " + s.reason());
            }
        }
        if (!run.note().isEmpty()) {
            out.result(run.note());
        }
    }

    static void describe(KilnConfig config, BuildResult r, Output out) {
        Path root = config.root();
        out.result("Built " + r.nevra() + " in " + String.format("%.1f s", r.duration().toMillis() / 1000.0)
                + " (commit " + (r.commit() == null ? "none" : r.commit().substring(0, 12)) + (r.dirty() ? ", dirty" : "") + ")");
        for (Path rpm : r.rpms()) {
            out.result("  RPM:          " + relative(root, rpm));
        }
        out.result("  Source RPM:   " + relative(root, r.sourceRpm()));
        out.result("  Signed by:    key " + r.keyId());
        out.result("  Builder:      " + r.builder() + " " + r.imageId());
        out.result("  Build record: " + relative(root, r.record()));
        if (r.published()) {
            out.result("  Published to: " + config.repository());
            out.result("  Install it:   " + DirectoryRepository.dnfInstallCommand(config.repository().toUri(), r.packageName()));
        } else {
            out.result("  Not published");
        }
    }

    private static String relative(Path root, Path p) {
        return p.startsWith(root) ? root.relativize(p).toString() : p.toString();
    }
}
