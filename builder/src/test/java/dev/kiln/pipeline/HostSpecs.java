package dev.kiln.pipeline;

import dev.kiln.container.ContainerArchive;
import dev.kiln.specfile.BuilderMacros;
import dev.kiln.specfile.EvaluatedSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Runs Kiln's spec evaluation script with this machine's rpm (Debian's 4.18, the builder's rpm)
 * instead of in a builder container, for tests of what is read from rpm's output. The script,
 * the queries and the reading are the ones builds use; only the container is missing.
 */
final class HostSpecs {

    private HostSpecs() {
    }

    /** The spec {@code text} of package {@code name}, as rpm reads it. */
    static EvaluatedSpec spec(String name, String text) {
        return evaluate(List.of(files(name, text, Map.of())), null).get(name).require();
    }

    static SpecEvaluator.SpecFiles files(String name, String text, Map<String, byte[]> local) {
        return new SpecEvaluator.SpecFiles(name, "specs/" + name + "/" + name + ".spec", text.getBytes(StandardCharsets.UTF_8),
                local, Map.of());
    }

    /** Evaluates {@code specs} with the builder macro file {@code macros} (null for none). */
    static Map<String, SpecEvaluator.Evaluation> evaluate(List<SpecEvaluator.SpecFiles> specs, byte[] macros) {
        Path home = null;
        try {
            home = Files.createTempDirectory("kiln-host-eval");
            for (var e : SpecEvaluator.inputs(specs, macros).entrySet()) {
                Path file = home.resolve(e.getKey());
                Files.createDirectories(file.getParent());
                Files.write(file, ((ContainerArchive.Content.Bytes) e.getValue()).bytes());
            }
            ProcessBuilder pb = new ProcessBuilder("sh", home.resolve("kiln-eval.sh").toString()).directory(home.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().putAll(SpecEvaluator.environment(home.toString()));
            int exit = pb.start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException("the evaluation script failed with exit " + exit);
            }
            SpecEvaluator.Run run = SpecEvaluator.outputs(home.resolve("eval-result/out.tar"), specs);
            BuilderMacros builder = new BuilderMacros("rpm-builder", run.facts().dist(), new TreeSet<>(run.facts().macros()));
            Map<String, SpecEvaluator.Evaluation> out = new LinkedHashMap<>();
            for (SpecEvaluator.SpecFiles s : specs) {
                out.put(s.packageName(), SpecEvaluator.evaluation(s, run.outputs().get(s.packageName()), builder));
            }
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            if (home != null) {
                try (var walk = Files.walk(home)) {
                    walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException e) {
                    // a temporary folder
                }
            }
        }
    }
}
