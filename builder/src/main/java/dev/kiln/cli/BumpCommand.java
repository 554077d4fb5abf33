package dev.kiln.cli;

import dev.kiln.pipeline.BuildListener;
import dev.kiln.pipeline.BumpRequest;
import dev.kiln.pipeline.BumpResult;
import dev.kiln.pipeline.BumpService;
import dev.kiln.pipeline.BuildResult;
import dev.kiln.config.KilnConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/** {@code kiln bump <pkg> --to <version>}: new upstream version, patch removal, branch, build, guard. */
@Component
class BumpCommand extends KilnCommand {

    BumpCommand() {
        super("bump", "Move a package to a new upstream version on a new branch, dropping patches, then build and guard it",
                "<package>", 1, 1, List.of(
                        Opt.value("to", "VERSION", "the new upstream version (required)"),
                        Opt.value("drop-patch", "FILE", "drop this patch (repeatable)"),
                        Opt.flag("auto-drop", "drop the patches the new source already contains"),
                        Opt.flag("no-fetch", "do not fetch the new source (offline edit); says what to add"),
                        Opt.flag("no-build", "stop after the commit"),
                        Opt.flag("no-publish", "build, sign and guard, but publish nothing"),
                        Opt.value("remote", "URL", "bump on Kiln's service at URL (default: KILN_REMOTE) with the token in KILN_TOKEN;"
                                + " the branch is pushed to the packaging repository"),
                        Opt.flag("accept-changes", "publish even when the release guard blocks (recorded in the changelog)"),
                        Opt.flag("json", "print one JSON document with the results to stdout")));
    }

    @Override
    protected int run(Invocation invocation, Output out) {
        String to = invocation.value("to").orElseThrow(
                () -> dev.kiln.KilnException.badInput("bump: --to VERSION is required (see ./kiln bump --help)"));
        KilnConfig config = config(invocation);
        BuildListener listener = Progress.to(out);
        BumpRequest request = new BumpRequest(invocation.arguments().get(0), to, invocation.values("drop-patch"),
                invocation.flags(BumpRequest.Option.class));
        java.util.Optional<String> remote = invocation.value("remote").or(() -> java.util.Optional.ofNullable(System.getenv("KILN_REMOTE"))
                .filter(v -> !v.isBlank()));
        if (remote.isPresent()) {
            return RemoteBuild.bump(invocation, remote.get(), config, request, out);
        }
        BumpResult r = new BumpService(config, listener).bump(request);
        if (invocation.flag("json")) {
            out.json(r.document(config));
            return 0;
        }
        out.result("Bumped " + r.packageName() + " " + r.fromVersion() + " -> " + r.toVersion() + "-" + r.release()
                + " on branch " + r.branch() + " (commit " + r.commit().substring(0, 12) + ")");
        r.dropped().forEach(d -> out.result("  dropped " + d.fileName() + " (" + d.reason() + ")"));
        r.keptPatches().forEach(p -> out.result("  kept    " + p));
        r.todo().forEach(t -> out.result("  to do:  " + t));
        for (BuildResult b : r.builds()) {
            BuildCommand.describe(config, b, out);
        }
        return 0;
    }
}
