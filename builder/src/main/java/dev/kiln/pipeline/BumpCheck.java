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
 * file), every other patch file still a patch, and the same source numbers. An
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
        SpecDocument parsed = SpecDocument.parse(path, edited.expansion().get());
        List<String> expansion = edited.expansion().get().lines().toList();
        int changelog = parsed.changelog().line() > 0 ? parsed.changelog().line() - 1 : expansion.size();
        Set<String> droppedFiles = new TreeSet<>();
        for (int number : dropped) {
            EvaluatedSpec.PatchTag was = original.patch(number).orElseThrow();
            droppedFiles.add(was.fileName());
            // by file name: dropping an unnumbered Patch: renumbers the ones after it, as rpm numbers them
            if (spec.patches().stream().anyMatch(p -> p.fileName().equals(was.fileName()))) {
                throw refuse(path, doc.patchLine(number), "rpm still reads " + was.fileName() + " as a patch after Patch" + number
                        + " was dropped; remove it by hand");
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
        Set<String> now = new TreeSet<>();
        spec.patches().forEach(p -> now.add(p.fileName()));
        for (EvaluatedSpec.PatchTag p : original.patches()) {
            if (droppedFiles.contains(p.fileName()) || now.contains(p.fileName())) {
                continue;
            }
            String became = spec.patch(p.number()).map(EvaluatedSpec.PatchTag::fileName).orElse("gone");
            throw refuse(path, p.line(), "Patch" + p.number() + " is " + became + " in the bumped spec, it was " + p.fileName()
                    + " (its name follows the version?); change line " + p.line() + " and the patch file by hand");
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
        return KilnException.badInput(SpecDocument.at(path, line) + what);
    }
}
