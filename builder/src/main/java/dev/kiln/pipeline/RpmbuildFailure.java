package dev.kiln.pipeline;

import dev.kiln.KilnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a failed rpmbuild into the error a person can act on. Bad input (an unparsable spec, a
 * patch that does not apply, an unmet BuildRequires) is exit 2 and names the file and line;
 * anything else is a failed build (exit 1) pointing at the log.
 */
final class RpmbuildFailure {

    private static final Pattern SPEC_LINE = Pattern.compile("error: line (\\d+): (.*)");
    private static final Pattern PATCH = Pattern.compile("Patch #(\\d+) \\(([^)]+)\\):");
    private static final Pattern HUNK = Pattern.compile("Hunk #(\\d+) FAILED at (\\d+)\\.");
    private static final Pattern NEEDED = Pattern.compile("\\s+(.+) is needed by .*");

    private RpmbuildFailure() {
    }

    static KilnException explain(PackageInputs in, Path log, int exitCode) {
        List<String> lines;
        try {
            lines = Files.readAllLines(log);
        } catch (IOException e) {
            lines = List.of();
        }
        String lastPatch = null;
        String lastPatchNumber = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher m = SPEC_LINE.matcher(line);
            if (m.find()) {
                return KilnException.badInput(in.specPath() + ":" + m.group(1) + ": " + m.group(2));
            }
            m = PATCH.matcher(line);
            if (m.find()) {
                lastPatchNumber = m.group(1);
                lastPatch = m.group(2);
            }
            m = HUNK.matcher(line);
            if (m.find()) {
                String which = lastPatch == null ? "a patch" : "patches/" + in.packageName() + "/" + lastPatch
                        + " (Patch" + lastPatchNumber + ")";
                return KilnException.badInput(which + " does not apply: hunk #" + m.group(1) + " FAILED at line "
                        + m.group(2) + "; the rejected hunk is in the log above and in " + log
                        + ": refresh the patch or drop it");
            }
            if (line.startsWith("error: Failed build dependencies:")) {
                StringBuilder needed = new StringBuilder();
                for (int j = i + 1; j < lines.size(); j++) {
                    Matcher n = NEEDED.matcher(lines.get(j));
                    if (!n.matches()) {
                        break;
                    }
                    needed.append(needed.isEmpty() ? "" : ", ").append(n.group(1));
                }
                return KilnException.badInput(in.specPath() + ": BuildRequires " + needed + " not installed in builder "
                        + in.builder() + ": add it to containers/" + in.builder() + "/ and re-pin");
            }
        }
        if (exitCode == 137) {
            return KilnException.buildFailed("rpmbuild of " + in.packageName()
                    + " was killed (exit 137; out of memory? raise build.memory); log: " + log);
        }
        String lastError = lines.stream().filter(l -> l.startsWith("error:")).reduce((a, b) -> b).orElse("exit code " + exitCode);
        return KilnException.buildFailed("rpmbuild of " + in.packageName() + " failed: " + lastError + "; log: " + log);
    }
}
