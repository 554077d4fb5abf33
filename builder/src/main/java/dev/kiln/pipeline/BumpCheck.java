package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.specfile.EvaluatedSpec;
import dev.kiln.specfile.SpecDocument;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The proof of a bump's edit: rpm reads the edited spec and must find the new version, none of
 * the dropped patches (no tag, and no line outside {@code %changelog} of its expansion naming the
 * file), every other patch under its number and file name, and the same source numbers. An
 * edit rpm does not confirm is refused with the line to change by hand; nothing is written.
 */
final class BumpCheck {

    private BumpCheck() {
    }

    static EvaluatedSpec confirm(EvaluatedSpec original, SpecEvaluator.Evaluation edited, SpecDocument doc, String to,
            Set<Integer> dropped) {
        String path = doc.path();
        if (edited.refusal() != null) {
            throw KilnException.badInput(path + ": rpm cannot read the spec as bumped, so nothing was changed: "
                    + edited.refusal().getMessage());
        }
        EvaluatedSpec spec = edited.spec();
        int versionLine = doc.tag("Version").map(SpecDocument.Tag::line).orElse(0);
        if (!spec.version().equals(to)) {
            throw refuse(path, versionLine, "rpm reads Version " + spec.version() + " from the bumped spec, not " + to
                    + "; change line " + versionLine + " (Version: " + doc.tag("Version").map(SpecDocument.Tag::value).orElse("")
                    + ") and the macros it uses by hand");
        }
        SpecDocument parsed = SpecDocument.parse(path, edited.output().parsed());
        List<String> expansion = edited.output().parsed().lines().toList();
        int changelog = parsed.changelog().line() > 0 ? parsed.changelog().line() - 1 : expansion.size();
        for (int number : dropped) {
            EvaluatedSpec.PatchTag was = original.patch(number).orElseThrow();
            if (spec.patch(number).isPresent()) {
                throw refuse(path, doc.patchLine(number), "rpm still reads Patch" + number + " (" + spec.patch(number).get().fileName()
                        + ") after it was dropped; remove it by hand");
            }
            Pattern named = Pattern.compile("(^|[/\\s'\"(])" + Pattern.quote(was.fileName()) + "($|[\\s'\");])");
            for (int i = 0; i < changelog; i++) {
                String line = expansion.get(i);
                if (!line.stripLeading().startsWith("#") && named.matcher(line).find()) {
                    throw KilnException.badInput(path + ": the bumped spec still uses " + was.fileName() + " after Patch" + number
                            + " was dropped (rpm's expansion: '" + line.strip() + "'); remove that use by hand");
                }
            }
        }
        for (EvaluatedSpec.PatchTag p : original.patches()) {
            if (dropped.contains(p.number())) {
                continue;
            }
            var now = spec.patch(p.number());
            if (now.isEmpty() || !now.get().fileName().equals(p.fileName())) {
                int line = p.line();
                throw refuse(path, line, "Patch" + p.number() + " is " + now.map(EvaluatedSpec.PatchTag::fileName).orElse("gone")
                        + " in the bumped spec, it was " + p.fileName() + " (its name follows the version?); change line " + line
                        + " and the patch file by hand");
            }
        }
        Set<Integer> before = numbers(original.sources());
        Set<Integer> after = numbers(spec.sources());
        if (!before.equals(after)) {
            throw KilnException.badInput(path + ": the bumped spec has Source numbers " + after + ", it had " + before
                    + " (sources that depend on the version); change the Source tags by hand");
        }
        return spec;
    }

    private static Set<Integer> numbers(List<EvaluatedSpec.SourceTag> sources) {
        Set<Integer> out = new TreeSet<>();
        sources.forEach(s -> out.add(s.number()));
        return out;
    }

    private static KilnException refuse(String path, int line, String what) {
        return KilnException.badInput((line > 0 ? path + ":" + line + ": " : path + ": ") + what);
    }
}
