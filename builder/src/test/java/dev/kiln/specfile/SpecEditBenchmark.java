package dev.kiln.specfile;

import dev.kiln.KilnException;
import java.util.List;

/**
 * Throughput of the spec model over the corpus: parse, bump, drop the first patch, add a
 * changelog entry and render, for every spec, many times in one warm JVM. Not a test; run with
 * {@code java -cp builder/target/classes:builder/target/test-classes dev.kiln.specfile.SpecEditBenchmark [rounds]}.
 * For scale it also times {@code rpmspec -P} (parse only) on each corpus spec once.
 */
public final class SpecEditBenchmark {

    private SpecEditBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (!SpecCorpus.present()) {
            System.out.println("spec corpus not found at " + SpecCorpus.ROOT);
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        List<String> names = SpecCorpus.names();
        List<String> texts = names.stream().map(SpecCorpus::read).toList();
        long bytes = texts.stream().mapToLong(String::length).sum();
        for (int warm = 0; warm < 50; warm++) {
            round(names, texts);
        }
        long start = System.nanoTime();
        long sink = 0;
        for (int r = 0; r < rounds; r++) {
            sink += round(names, texts);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double perSecond = rounds * names.size() / seconds;
        System.out.printf("kiln spec edit: %d specs x %d rounds in %.2f s = %.0f specs/s (%.1f MB/s; parse+bump+drop+changelog+render; sink %d)%n",
                names.size(), rounds, seconds, perSecond, perSecond * bytes / names.size() / 1e6, sink);

        long rpmStart = System.nanoTime();
        int parsed = 0;
        for (String name : names) {
            Process p = new ProcessBuilder("rpmspec", "-P", "--define", "_sourcedir /nonexistent",
                    "--define", "autorelease(e:s:pb:n) 1%{?dist}", "--define", "autochangelog %{nil}",
                    SpecCorpus.path(name).toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            parsed += p.waitFor() == 0 ? 1 : 0;
        }
        double rpmPerSecond = names.size() / ((System.nanoTime() - rpmStart) / 1e9);
        System.out.printf("rpmspec -P (parse only, one process per spec, %d of %d parse): %.0f specs/s; ratio %.0fx%n",
                parsed, names.size(), rpmPerSecond, perSecond / rpmPerSecond);
    }

    private static long round(List<String> names, List<String> texts) {
        long sink = 0;
        for (int i = 0; i < names.size(); i++) {
            SpecDocument doc = SpecDocument.parse(names.get(i), texts.get(i));
            try {
                doc = doc.bump(SpecCorpusEditTest.nextVersion(doc.version()));
            } catch (KilnException refused) {
                sink++;
            }
            doc = doc.dropPatch(doc.patches().get(0).number());
            doc = doc.addChangelogEntry("Kiln", "kiln@example.org", java.time.LocalDate.of(2026, 11, 25),
                    "1-1", List.of("Update"));
            sink += doc.render().length();
        }
        return sink;
    }
}
