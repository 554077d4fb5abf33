package dev.kiln.cli;

import dev.kiln.pipeline.DiffService;
import dev.kiln.guard.GuardReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/** {@code kiln diff <pkg> [--against NEVR]}: the release guard's report without publishing. */
@Component
class DiffCommand extends KilnCommand {

    DiffCommand() {
        super("diff", "Compare a package's latest build with its latest (or a given) release: the release guard's report",
                "<package>", 1, 1, List.of(
                        Opt.value("against", "NEVR", "compare with this published release (e.g. 3.9.9-1) instead of the latest"),
                        Opt.JSON));
    }

    @Override
    protected int run(Invocation invocation, Output out) {
        GuardReport report = new DiffService(config(invocation)).diff(invocation.arguments().get(0),
                invocation.value("against").orElse(null));
        if (invocation.flag("json")) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("package", invocation.arguments().get(0));
            doc.put("blocks", report.blocks());
            doc.put("headline", report.headline());
            doc.put("report", report);
            out.json(doc);
        } else {
            out.result(report.render().stripTrailing());
        }
        return report.blocks() ? dev.kiln.KilnException.BUILD_FAILED : 0;
    }
}
