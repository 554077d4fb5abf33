package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.Sha256;
import dev.kiln.container.BuildContainer;
import dev.kiln.container.ContainerArchive;
import dev.kiln.container.ContainerLimits;
import dev.kiln.specfile.BuilderMacros;
import dev.kiln.specfile.EvaluatedSpec;
import dev.kiln.specfile.RpmOutput;
import dev.kiln.specfile.SpecDocument;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads specs the way rpm does: the builder image's own {@code rpmspec}, with the defines and the
 * macro file the build uses, in a container locked down like a build (its {@code %(...)} and Lua
 * run there and nowhere else). Every spec not in the cache is read in one container run, several
 * at a time. Results, refusals included, are kept under the cache folder by what determines them:
 * the spec's bytes, the package's other files, the toolchain digest the builder's lock pins, the
 * builder's macro file and the evaluation script itself. A run that finds every spec there starts
 * no container and does not even connect to the engine.
 */
final class SpecEvaluator {

    /** Bumped when what is asked of rpm or how its answer is read changes, so old cache entries are not reused. */
    private static final String FORMAT = "kiln-spec-evaluation 3";
    private static final String HOME = RpmbuildInput.HOME;
    /** What one spec's rpm output may take on the host; a spec whose expansion is larger is refused. */
    private static final long MAX_OUTPUT = 16L << 20;
    private static final int MAX_ERRORS = 64 * 1024;

    /**
     * Without an argument: unpacks ~/eval-in.tar (one folder per spec under ~/eval), writes the
     * builder's %dist and the names of the macros it defines, evaluates every folder, as many at
     * once as there are processors, and packs the results into ~/eval-result/out.tar. One file in
     * and one out: the engine copies a single file far faster than hundreds of small ones. With a
     * package name: evaluates that one, each rpm call only after the one before succeeded.
     */
    static final String SCRIPT = """
            set -u
            pkg=${1:-}
            """ + RpmbuildInput.RPM_OPTIONS + """
            out=$HOME/eval-out
            if [ -z "$pkg" ]; then
              tar -xf "$HOME/eval-in.tar" -C "$HOME" || exit 1
              mkdir -p "$out" "$HOME/eval-result"
              rpm "$@" --eval '%{?dist}' > "$out/dist" 2>/dev/null
              rpm "$@" --showrc 2>/dev/null | sed -n 's/^-[0-9]*[:=] \\([A-Za-z_][A-Za-z0-9_]*\\).*/\\1/p' | sort -u > "$out/macros"
              ls "$HOME/eval" | xargs -P "$(nproc)" -n 1 sh "$HOME/kiln-eval.sh"
              tar -cf "$HOME/eval-result/out.tar" -C "$out" . || exit 1
              exit 0
            fi
            d=$HOME/eval/$pkg
            o=$out/$pkg
            mkdir -p "$o"
            rc=0
            rpmspec "$@" --define "_sourcedir $d" -P "$d/$pkg.spec" > "$o/parsed" 2> "$o/errors" || rc=$?
            if [ $rc = 0 ]; then
              rpmspec "$@" --define "_sourcedir $d" -q --srpm --qf "$KILN_SOURCE_QUERY" "$d/$pkg.spec" > "$o/source" 2>> "$o/errors" || rc=$?
            fi
            echo $rc > "$o/exit"
            """;

    /** The files rpm may read while evaluating one spec: the spec, the other files of specs/&lt;pkg&gt;/ and patches/&lt;pkg&gt;/. */
    record SpecFiles(String packageName, String specPath, byte[] spec, Map<String, byte[]> local, Map<String, byte[]> patches) {
    }

    /**
     * One spec's result: rpm's reading, or the refusal that says why there is none, and rpm's
     * expansion of the spec ({@code rpmspec -P}), read from the cache only when asked for.
     */
    record Evaluation(String packageName, EvaluatedSpec spec, KilnException refusal, java.util.function.Supplier<String> expansion) {
        EvaluatedSpec require() {
            if (refusal != null) {
                throw refusal;
            }
            return spec;
        }
    }

    /** What the builder's rpm reported about itself; cached with the specs. */
    record BuilderFacts(String dist, List<String> macros) {
    }

    /** A cache entry: the reading (or the refusal's message) of one spec; its expansion is kept beside it. */
    private record Cached(String packageName, EvaluatedSpec spec, String refusal) {
    }

    /** Compact: hundreds of entries are written at once after a first reading. */
    private static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    private final Path cacheDir;
    private final ContainerLimits limits;
    private final BuildListener listener;

    SpecEvaluator(Path cacheDir, ContainerLimits limits, BuildListener listener) {
        this.cacheDir = cacheDir.resolve("specs");
        this.limits = limits;
        this.listener = listener;
    }

    /**
     * Evaluates {@code specs} in the session's builder: from the cache where it can (looked up
     * on all processors: a run of hundreds of specs hashes every file of every package), in one
     * container run for the rest.
     */
    Map<String, Evaluation> evaluate(List<SpecFiles> specs, BuilderSession session) {
        long started = System.nanoTime();
        String builderKey = builderKey(session);
        Map<String, String> keys = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, Evaluation> result = new java.util.concurrent.ConcurrentSkipListMap<>();
        specs.parallelStream().forEach(s -> {
            String key = specKey(builderKey, s);
            keys.put(s.packageName(), key);
            readCache(key, Cached.class).filter(c -> c.packageName().equals(s.packageName()))
                    .ifPresent(c -> result.put(s.packageName(), new Evaluation(s.packageName(), c.spec(),
                            c.refusal() == null ? null : KilnException.badInput(c.refusal()), () -> expansion(key))));
        });
        List<SpecFiles> missing = specs.stream().filter(s -> !result.containsKey(s.packageName())).toList();
        if (!missing.isEmpty()) {
            listener.stage("Start: read " + missing.size() + " spec(s) with rpm in builder " + session.builder());
            Run run = run(missing, session);
            writeCache("builder-" + builderKey, run.facts());
            BuilderMacros macros = new BuilderMacros(session.builder(), run.facts().dist(), new TreeSet<>(run.facts().macros()));
            missing.parallelStream().forEach(s -> {
                RpmOutput out = run.outputs().get(s.packageName());
                Evaluation e = evaluation(s, out, macros);
                String key = keys.get(s.packageName());
                writeText(key + ".expansion", out.parsed());
                writeCache(key, new Cached(s.packageName(), e.spec(), e.refusal() == null ? null : e.refusal().getMessage()));
                result.put(s.packageName(), e);
            });
            listener.notice("read " + missing.size() + " spec(s) with rpm in builder " + session.builder() + " in "
                    + seconds(started) + (specs.size() > missing.size() ? "; " + (specs.size() - missing.size())
                    + " from the cache" : ""));
        }
        return result;
    }

    /** The cached expansion of the spec with this key ("" when it is gone). */
    private String expansion(String key) {
        try {
            Path file = cacheDir.resolve(key + ".expansion");
            return Files.isRegularFile(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** rpm's output for {@code s} read into a spec, or the refusal it amounts to. */
    static Evaluation evaluation(SpecFiles s, RpmOutput output, BuilderMacros macros) {
        try {
            SpecDocument written = SpecDocument.parse(s.specPath(), BuildService.read(s.spec()));
            return new Evaluation(s.packageName(), EvaluatedSpec.read(written, output, macros), null, output::parsed);
        } catch (KilnException e) {
            return new Evaluation(s.packageName(), null, e, output::parsed);
        }
    }

    /** The builder's %dist as its rpm defines it (its macro file included), from the cache or a run. */
    String dist(BuilderSession session) {
        String builderKey = builderKey(session);
        Optional<BuilderFacts> facts = readCache("builder-" + builderKey, BuilderFacts.class);
        if (facts.isEmpty()) {
            Run run = run(List.of(), session);
            writeCache("builder-" + builderKey, run.facts());
            return run.facts().dist();
        }
        return facts.get().dist();
    }

    record Run(BuilderFacts facts, Map<String, RpmOutput> outputs) {
    }

    private Run run(List<SpecFiles> specs, BuilderSession session) {
        Map<String, ContainerArchive.Content> files = inputs(specs, session.macros());
        String imageId = session.image().imageId();
        Path out;
        try {
            out = Files.createTempDirectory("kiln-eval");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        BuildContainer.Exchange exchange = BuildContainer.Exchange.into(HOME).andBack(HOME + "/eval-result");
        try (BuildContainer container = BuildContainer.create(session.engine(), imageId, limits,
                List.of("sh", HOME + "/kiln-eval.sh"), environment(HOME), exchange)) {
            List<String> said = new ArrayList<>();
            BuildContainer.Result result = container.run(files, line -> {
                if (said.size() < 20) {
                    said.add(line);
                }
            }, out);
            if (result.exitCode() != 0) {
                throw KilnException.buildFailed("reading specs with rpm in builder " + session.builder() + " failed (exit " + result.exitCode()
                        + "): " + String.join(" / ", said));
            }
            return outputs(out.resolve("out.tar"), specs);
        } finally {
            ContainerArchive.deleteTree(out);
        }
    }

    /** The files the evaluation script reads, relative to the home folder it runs in. */
    static Map<String, ContainerArchive.Content> inputs(List<SpecFiles> specs, byte[] macros) {
        Map<String, ContainerArchive.Content> files = new LinkedHashMap<>();
        files.put("kiln-eval.sh", ContainerArchive.Content.of(SCRIPT.getBytes(StandardCharsets.UTF_8)));
        if (macros != null) {
            files.put(RpmbuildInput.MACROS, ContainerArchive.Content.of(macros));
        }
        Map<String, byte[]> eval = new LinkedHashMap<>();
        eval.put("eval/.keep", new byte[0]);
        for (SpecFiles s : specs) {
            String dir = "eval/" + s.packageName() + "/";
            s.local().forEach((name, bytes) -> eval.put(dir + name, bytes));
            s.patches().forEach((name, bytes) -> eval.put(dir + name, bytes));
            eval.put(dir + s.packageName() + ".spec", s.spec());
        }
        files.put("eval-in.tar", ContainerArchive.Content.of(ContainerArchive.pack(eval)));
        return files;
    }

    /** The evaluation script's environment when it runs in {@code home}. */
    static Map<String, String> environment(String home) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HOME", home);
        env.put("KILN_SOURCE_QUERY", EvaluatedSpec.SOURCE_QUERY);
        return env;
    }

    /** Reads the results the script packed into {@code tarFile} (its ~/eval-result/out.tar). */
    static Run outputs(Path tarFile, List<SpecFiles> specs) {
        Map<String, byte[]> root = entries(tarFile);
        String dist = text(root, "dist");
        String names = text(root, "macros");
        BuilderFacts facts = new BuilderFacts(dist == null ? "" : dist.strip(),
                names == null ? List.of() : Arrays.stream(names.split("\n")).filter(m -> !m.isBlank()).toList());
        Map<String, RpmOutput> outputs = new TreeMap<>();
        for (SpecFiles s : specs) {
            String d = s.packageName() + "/";
            String exitText = text(root, d + "exit");
            String errors = text(root, d + "errors");
            errors = errors == null ? "(more than " + (MAX_OUTPUT >> 20) + " MiB of messages)" : errors;
            errors = errors.length() > MAX_ERRORS ? errors.substring(0, MAX_ERRORS) : errors;
            String parsed = text(root, d + "parsed");
            String source = text(root, d + "source");
            RpmOutput o;
            if (exitText == null || exitText.isBlank()) {
                o = new RpmOutput(1, "", "", errors + "\nerror: rpm did not finish reading the spec");
            } else if (parsed == null || source == null) {
                o = new RpmOutput(1, "", "", "error: rpm's expansion of the spec is larger than "
                        + (MAX_OUTPUT >> 20) + " MiB");
            } else {
                int rc = exitText.strip().matches("\\d+") ? Integer.parseInt(exitText.strip()) : 1;
                o = new RpmOutput(rc, parsed, source, errors);
            }
            outputs.put(s.packageName(), o);
        }
        return new Run(facts, outputs);
    }

    private String builderKey(BuilderSession session) {
        MessageDigest sha = Sha256.digest();
        update(sha, FORMAT);
        update(sha, SCRIPT);
        update(sha, EvaluatedSpec.SOURCE_QUERY);
        update(sha, session.builder());
        update(sha, session.toolchain());
        byte[] macros = session.macros();
        update(sha, macros == null ? "no macros" : "macros " + Sha256.hex(macros));
        return java.util.HexFormat.of().formatHex(sha.digest());
    }

    private static String specKey(String builderKey, SpecFiles s) {
        MessageDigest sha = Sha256.digest();
        update(sha, builderKey);
        update(sha, s.specPath());
        update(sha, Sha256.hex(s.spec()));
        for (var files : List.of(new TreeMap<>(s.local()), new TreeMap<>(s.patches()))) {
            update(sha, "files " + files.size());
            files.forEach((name, bytes) -> update(sha, name + " " + Sha256.hex(bytes)));
        }
        return java.util.HexFormat.of().formatHex(sha.digest());
    }

    private static void update(MessageDigest sha, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        sha.update((bytes.length + ":").getBytes(StandardCharsets.UTF_8));
        sha.update(bytes);
    }

    private <T> Optional<T> readCache(String key, Class<T> type) {
        Path file = cacheDir.resolve(key + ".json");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), type));
        } catch (RuntimeException e) {
            // A damaged entry is read again from rpm.
            return Optional.empty();
        }
    }

    private void writeCache(String key, Object value) {
        write(key + ".json", JSON.writeValueAsBytes(value));
    }

    private void writeText(String name, String text) {
        write(name, text.getBytes(StandardCharsets.UTF_8));
    }

    private void write(String name, byte[] bytes) {
        try {
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempFile(cacheDir, name, ".part");
            Files.write(tmp, bytes);
            Files.move(tmp, cacheDir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            // Only a cache: the next run reads the spec again.
            listener.notice("cannot keep the reading of a spec in " + cacheDir + ": " + e.getMessage());
        }
    }

    /** A result's text ("" when the script wrote none), or null when it was larger than the limit. */
    private static String text(Map<String, byte[]> entries, String name) {
        if (!entries.containsKey(name)) {
            return "";
        }
        byte[] bytes = entries.get(name);
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * The regular files of the results tar by path ({@code ./} taken off); null for a file
     * larger than {@link #MAX_OUTPUT}, which is not read.
     */
    private static Map<String, byte[]> entries(Path tarFile) {
        Map<String, byte[]> out = new java.util.HashMap<>();
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(Files.newInputStream(tarFile))) {
            for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (!e.isFile() || e.isLink() || e.isSymbolicLink()) {
                    continue;
                }
                String name = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                out.put(name, e.getSize() > MAX_OUTPUT ? null : tar.readAllBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the results of the spec reading from " + tarFile + " failed", e);
        }
        return out;
    }

    private static String seconds(long started) {
        return String.format("%.1f s", (System.nanoTime() - started) / 1e9);
    }
}
