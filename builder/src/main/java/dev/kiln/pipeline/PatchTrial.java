package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.container.BuildContainer;
import dev.kiln.container.ContainerArchive;
import dev.kiln.container.ContainerLimits;
import dev.kiln.container.DockerEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tries a package's patches, in order, against a new upstream source, inside the builder
 * container (no network, no root): a patch that applies is kept (and applied, so later patches
 * see it), one that only applies in reverse is already upstream, and one that does neither is
 * reported with its failing hunks.
 */
final class PatchTrial {

    /** What happened to one patch. */
    enum Verdict { APPLIES, MERGED_UPSTREAM, FAILS }

    /** One patch's verdict, with patch's own output (the failing hunks) when it fails. */
    record Outcome(String patch, Verdict verdict, String detail) {
    }

    /** A patch to try and the -p level the spec applies it with. */
    record Candidate(String fileName, byte[] content, int strip) {
    }

    private static final String HOME = RpmbuildInput.HOME;

    private static final String SCRIPT = """
            set -u
            mkdir -p "$HOME/src" && cd "$HOME/src"
            tar -xf "$HOME/SOURCES/$KILN_SOURCE" || { echo "kiln-trial cannot-unpack $KILN_SOURCE"; exit 0; }
            if [ "$(ls -A | wc -l)" = 1 ] && [ -d "$(ls -A)" ]; then cd "$(ls -A)"; fi
            for entry in $KILN_PATCHES; do
              strip=${entry%%:*}; p=${entry#*:}
              if patch -p"$strip" --dry-run -f -s --fuzz=0 < "$HOME/SOURCES/$p" >/dev/null 2>&1; then
                patch -p"$strip" -f -s --fuzz=0 --no-backup-if-mismatch < "$HOME/SOURCES/$p" >/dev/null 2>&1
                echo "kiln-trial applies $p"
              elif patch -p"$strip" -R --dry-run -f -s --fuzz=0 < "$HOME/SOURCES/$p" >/dev/null 2>&1; then
                echo "kiln-trial merged $p"
              else
                echo "kiln-trial fails $p"
                patch -p"$strip" --dry-run -f --fuzz=0 < "$HOME/SOURCES/$p" 2>&1 | grep -E 'FAILED|can.t find file|No file to patch' | sed 's/^/kiln-detail /'
                patch -p"$strip" -f --fuzz=0 --no-backup-if-mismatch -r "$HOME/rejected" < "$HOME/SOURCES/$p" >/dev/null 2>&1
                [ -f "$HOME/rejected" ] && sed 's/^/kiln-detail /' "$HOME/rejected"
                exit 0
              fi
            done
            """;

    /** Detail lines (the failing patch's hunks) kept from one trial. */
    private static final int MAX_REPORT_LINES = 10_000;
    /** The last lines of output shown when the trial itself fails. */
    private static final int ERROR_LINES = 20;

    private PatchTrial() {
    }

    static List<Outcome> run(DockerEngine engine, String imageId, ContainerLimits limits, Path source, String sourceName,
            List<Candidate> patches, BuildListener listener) {
        Map<String, ContainerArchive.Content> files = new LinkedHashMap<>();
        files.put("trial.sh", ContainerArchive.Content.of(SCRIPT.getBytes(StandardCharsets.UTF_8)));
        // Streamed from the cache: an upstream tarball can be larger than the heap.
        files.put("SOURCES/" + sourceName, ContainerArchive.Content.of(source));
        StringBuilder list = new StringBuilder();
        for (Candidate c : patches) {
            files.put("SOURCES/" + c.fileName(), ContainerArchive.Content.of(c.content()));
            list.append(list.isEmpty() ? "" : " ").append(c.strip()).append(':').append(c.fileName());
        }
        Map<String, String> env = Map.of("HOME", HOME, "KILN_SOURCE", sourceName, "KILN_PATCHES", list.toString());
        // Only the trial's own report lines are kept, and a few last lines for an error: patch output is
        // as long as the patches make it, and a hostile one must not fill the heap.
        List<String> lines = new ArrayList<>();
        java.util.ArrayDeque<String> lastLines = new java.util.ArrayDeque<>();
        java.util.function.Consumer<String> collect = line -> {
            // One verdict per patch is always kept; the failing patch's detail only up to a bound.
            if (line.startsWith("kiln-trial ") || (line.startsWith("kiln-detail ") && lines.size() < MAX_REPORT_LINES)) {
                lines.add(line);
            }
            lastLines.addLast(line);
            if (lastLines.size() > ERROR_LINES) {
                lastLines.removeFirst();
            }
        };
        try (BuildContainer container = BuildContainer.create(engine, imageId, limits, List.of("sh", HOME + "/trial.sh"), env,
                BuildContainer.Exchange.into(HOME))) {
            int exit = container.run(files, collect);
            if (exit != 0) {
                throw KilnException.buildFailed("trying the patches against " + sourceName + " failed (exit " + exit + "): "
                        + String.join(" / ", lastLines));
            }
        }
        List<Outcome> outcomes = new ArrayList<>();
        StringBuilder detail = new StringBuilder();
        for (String line : lines) {
            if (line.startsWith("kiln-detail ")) {
                detail.append(line.substring("kiln-detail ".length())).append('\n');
            } else if (line.startsWith("kiln-trial cannot-unpack")) {
                throw KilnException.badInput("cannot unpack " + sourceName + " to try the patches: only tar archives are supported");
            } else if (line.startsWith("kiln-trial ")) {
                String[] parts = line.split(" ", 3);
                Verdict verdict = switch (parts[1]) {
                    case "applies" -> Verdict.APPLIES;
                    case "merged" -> Verdict.MERGED_UPSTREAM;
                    default -> Verdict.FAILS;
                };
                outcomes.add(new Outcome(parts[2], verdict, ""));
            }
        }
        if (!outcomes.isEmpty() && outcomes.getLast().verdict() == Verdict.FAILS) {
            Outcome last = outcomes.removeLast();
            outcomes.add(new Outcome(last.patch(), Verdict.FAILS, detail.toString()));
        }
        outcomes.forEach(o -> listener.notice(o.patch() + ": " + switch (o.verdict()) {
            case APPLIES -> "applies to the new source";
            case MERGED_UPSTREAM -> "already upstream (applies in reverse)";
            case FAILS -> "does not apply";
        }));
        return outcomes;
    }
}
