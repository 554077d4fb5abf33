package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.PrunePlan;
import dev.kiln.repo.Pruning;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Targets;
import dev.kiln.rpm.Nevra;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** {@code kiln repo prune --keep N}: removes old releases from a target, atomically like a publish. */
@Configuration(proxyBeanMethods = false)
class PruneCommand {

    @Bean
    KilnCommand repoPrune() {
        return new KilnCommand("repo prune", "Remove old releases from a target, keeping the N newest of each package and arch", "", 0, 0,
                List.of(KilnCommand.Opt.value("keep", "N", "how many releases of each package name and arch stay (1 or more)"),
                        KilnCommand.Opt.TARGET,
                        KilnCommand.Opt.flag("dry-run", "say what would be removed; change nothing"),
                        KilnCommand.Opt.JSON)) {
            @Override
            protected int run(Invocation invocation, Output out) {
                int keep = parseKeep(invocation.value("keep").orElseThrow(() -> KilnException.badInput(
                        "repo prune: --keep N is required: how many releases of each package to keep (1 or more)")));
                KilnConfig config = config(invocation);
                TargetConfig target = config.target(invocation.value("target"));
                boolean dryRun = invocation.flag("dry-run");
                long started = System.nanoTime();
                Pruning p;
                try (PublishTarget opened = Targets.open(target, System.getenv(), config.cache())) {
                    // a dry run signs nothing, so it needs no passphrase
                    p = opened.prune(keep, dryRun ? Pruning.Mode.DRY_RUN : Pruning.Mode.APPLY,
                            dryRun ? null : dev.kiln.pipeline.Keys.load(config.signing()));
                }
                long millis = (System.nanoTime() - started) / 1_000_000;
                if (invocation.flag("json")) {
                    Map<String, Object> doc = new LinkedHashMap<>();
                    doc.put("target", target.name());
                    doc.put("location", target.describe());
                    doc.put("keep", keep);
                    doc.put("dryRun", dryRun);
                    doc.put("removed", p.removed().stream().map(Nevra::toString).toList());
                    doc.put("kept", p.kept().stream().map(Nevra::toString).toList());
                    doc.put("files", p.files());
                    doc.put("metadataChanged", p.metadataChanged());
                    doc.put("millis", millis);
                    out.json(doc);
                    return 0;
                }
                String verb = dryRun ? "Would remove " : "Removed ";
                p.removed().forEach(n -> out.result(verb + n));
                out.result((p.removed().isEmpty() ? "Nothing to remove from target " : (dryRun ? "Would remove " : "Removed ")
                        + p.removed().size() + " release(s) (" + p.files().size() + " file(s)) from target ") + target.name()
                        + " (" + target.describe() + "), keeping " + p.kept().size() + ", " + millis + " ms");
                return 0;
            }
        };
    }

    /** {@code --keep}'s value: a whole number of 1 or more, else one line and exit 2 before anything is read. */
    static int parseKeep(String value) {
        int keep;
        try {
            keep = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw KilnException.badInput("repo prune: --keep '" + value + "' is not a number: give how many releases of each "
                    + "package to keep (1 or more)");
        }
        return PrunePlan.checkKeep(keep);
    }
}
