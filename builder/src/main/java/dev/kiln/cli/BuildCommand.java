package dev.kiln.cli;

import dev.kiln.build.BuildListener;
import dev.kiln.build.BuildRequest;
import dev.kiln.build.BuildResult;
import dev.kiln.build.BuildService;
import dev.kiln.config.KilnConfig;
import dev.kiln.repo.DirectoryRepository;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/** {@code kiln build <pkg>...}: build, sign and publish packages. */
@Component
class BuildCommand extends KilnCommand {

    BuildCommand() {
        super("build", "Build packages from specs/ in the pinned builder container, sign and publish them",
                "<package>...", 1, Integer.MAX_VALUE, List.of(
                        Opt.value("rev", "REF", "build the committed content of this revision instead of the working tree"),
                        Opt.flag("no-publish", "build and sign, but do not publish to the repository"),
                        Opt.flag("accept-changes", "publish even when the release guard finds moved or removed paths (recorded)"),
                        Opt.flag("json", "print one JSON document with the results to stdout")));
    }

    @Override
    protected int run(Invocation invocation, Output out) {
        KilnConfig config = config(invocation);
        boolean json = invocation.flag("json");
        long started = System.nanoTime();
        BuildListener listener = Progress.to(out);
        BuildRequest request = new BuildRequest(invocation.arguments(), invocation.value("rev").orElse(null),
                !invocation.flag("no-publish"), invocation.flag("accept-changes"));
        List<BuildResult> results = new BuildService(config, listener).build(request);
        long millis = (System.nanoTime() - started) / 1_000_000;
        if (json) {
            out.json(document(config, results, millis));
        } else {
            for (BuildResult r : results) {
                describe(config, r, out);
            }
        }
        return 0;
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
            out.result("  Install it:   " + DirectoryRepository.dnfInstallCommand(config.repository().toUri(), packageName(r)));
        } else {
            out.result("  Not published (--no-publish)");
        }
    }

    static Map<String, Object> document(KilnConfig config, List<BuildResult> results, long millis) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("ok", true);
        doc.put("durationMillis", millis);
        doc.put("repository", config.repository().toString());
        doc.put("builds", results.stream().map(r -> {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("package", r.packageName());
            b.put("nevra", r.nevra());
            b.put("rpms", r.rpms().stream().map(Path::toString).toList());
            b.put("sourceRpm", r.sourceRpm().toString());
            b.put("signingKey", r.keyId());
            b.put("builder", r.builder());
            b.put("imageDigest", r.imageId());
            b.put("commit", r.commit());
            b.put("dirty", r.dirty());
            b.put("durationMillis", r.duration().toMillis());
            b.put("record", r.record().toString());
            b.put("published", r.published());
            if (r.published()) {
                b.put("install", DirectoryRepository.dnfInstallCommand(config.repository().toUri(), packageName(r)));
            }
            return b;
        }).toList());
        return doc;
    }

    private static String packageName(BuildResult r) {
        return r.packageName();
    }

    private static String relative(Path root, Path p) {
        return p.startsWith(root) ? root.relativize(p).toString() : p.toString();
    }
}
