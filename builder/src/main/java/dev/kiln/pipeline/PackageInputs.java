package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.git.DefinitionRepository;
import dev.kiln.source.SourceFetcher;
import dev.kiln.source.SourcesFile;
import dev.kiln.specfile.EvaluatedSpec;
import dev.kiln.specfile.SpecDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Everything a package build reads from the definitions repository, checked before any
 * container starts: the spec, its local sources and patches, the {@code sources} file, and the
 * builder's context and lock.
 */
record PackageInputs(
        String packageName,
        DefinitionRepository.Snapshot snapshot,
        String specPath,
        byte[] specBytes,
        EvaluatedSpec spec,
        Map<String, byte[]> localSources,
        Map<String, byte[]> patches,
        SourcesFile sources,
        String sourcesPath,
        List<EvaluatedSpec.SourceTag> remoteSources,
        String builder,
        Map<String, byte[]> builderContext,
        String builderLock) {

    static final String LOCK_FILE = "image.lock";

    /**
     * The files of package {@code pkg} that rpm may read when it evaluates its spec (see
     * {@link SpecEvaluator}): refuses an invalid name, an unknown package and a missing spec.
     */
    static SpecEvaluator.SpecFiles specFiles(DefinitionRepository git, DefinitionRepository.Snapshot snapshot, String pkg,
            String rev) {
        if (!pkg.matches("[A-Za-z0-9][A-Za-z0-9._+-]*")) {
            throw KilnException.badInput("'" + pkg + "' is not a valid package name");
        }
        String specDir = "specs/" + pkg;
        Map<String, byte[]> specFiles = git.files(snapshot, specDir);
        if (specFiles.isEmpty()) {
            throw KilnException.badInput("unknown package '" + pkg + "': there is no " + specDir + "/"
                    + (rev == null ? "" : " at " + rev) + " (known: " + knownPackages(git.root()) + ")");
        }
        String specName = pkg + ".spec";
        byte[] specBytes = specFiles.get(specName);
        if (specBytes == null) {
            throw KilnException.badInput(specDir + "/" + specName + " is missing: each package needs specs/<pkg>/<pkg>.spec");
        }
        Map<String, byte[]> local = new LinkedHashMap<>(specFiles);
        local.remove(specName);
        return new SpecEvaluator.SpecFiles(pkg, specDir + "/" + specName, specBytes, local, git.files(snapshot, "patches/" + pkg));
    }

    /** The snapshot a package's inputs are read from: its own folders and its builder's. */
    static DefinitionRepository.Snapshot snapshot(DefinitionRepository git, String pkg, String builder, String rev) {
        return git.snapshot(rev, List.of("specs/" + pkg, "patches/" + pkg, "containers/" + builder));
    }

    /** Reads and checks the inputs of {@code pkg}, whose spec rpm read as {@code spec}. */
    static PackageInputs read(DefinitionRepository git, DefinitionRepository.Snapshot snapshot, String pkg, String builder,
            String rev, EvaluatedSpec spec) {
        SpecEvaluator.SpecFiles files = specFiles(git, snapshot, pkg, rev);
        String specDir = "specs/" + pkg;
        String patchDir = "patches/" + pkg;
        String specPath = files.specPath();
        byte[] specBytes = files.spec();
        if (!spec.name().equals(pkg)) {
            throw KilnException.badInput(specPath + ": Name is '" + spec.name() + "' but the folder is " + specDir
                    + "/: make them the same");
        }
        Map<String, byte[]> specFiles = new LinkedHashMap<>(files.local());
        String sourcesPath = specDir + "/sources";
        SourcesFile sources = specFiles.containsKey("sources")
                ? SourcesFile.parse(sourcesPath, BuildService.read(specFiles.get("sources")))
                : SourcesFile.empty(sourcesPath);
        Map<String, byte[]> local = new LinkedHashMap<>(specFiles);
        local.remove("sources");
        Map<String, byte[]> patchFiles = files.patches();
        Map<String, byte[]> patches = new LinkedHashMap<>();
        for (EvaluatedSpec.PatchTag patch : spec.patches()) {
            byte[] bytes = patchFiles.get(patch.fileName());
            if (bytes == null) {
                throw KilnException.badInput(SpecDocument.at(specPath, patch.line()) + "Patch" + patch.number() + " names "
                        + patch.fileName() + ", which is not in " + patchDir + "/: add the file or remove the tag");
            }
            patches.put(patch.fileName(), bytes);
        }
        List<EvaluatedSpec.SourceTag> remote = new ArrayList<>();
        for (EvaluatedSpec.SourceTag source : spec.sources()) {
            String file = source.fileName();
            if (local.containsKey(file)) {
                continue;
            }
            if (!source.isRemote()) {
                throw KilnException.badInput(SpecDocument.at(specPath, source.line()) + "Source" + source.number() + " " + file
                        + " is not in " + specDir + "/: add the file there");
            }
            if (sources.find(file).isEmpty()) {
                throw KilnException.badInput(sourcesPath + " has no entry for " + file + " (Source" + source.number()
                        + " at " + specPath + ":" + source.line() + "): add 'SHA512 (" + file + ") = <sha512>'");
            }
            remote.add(source);
        }
        Map<String, byte[]> context = builderFiles(git, snapshot, builder);
        byte[] lock = context.remove(LOCK_FILE);
        return new PackageInputs(pkg, snapshot, specPath, specBytes, spec, Map.copyOf(local), Map.copyOf(patches),
                sources, sourcesPath, List.copyOf(remote), builder, Map.copyOf(context),
                lock == null ? null : BuildService.read(lock));
    }

    /** The files of containers/&lt;builder&gt;/ (its image.lock included), refusing a folder without a Dockerfile. */
    static Map<String, byte[]> builderFiles(DefinitionRepository git, DefinitionRepository.Snapshot snapshot, String builder) {
        Map<String, byte[]> files = new LinkedHashMap<>(git.files(snapshot, "containers/" + builder));
        if (!files.containsKey("Dockerfile")) {
            throw KilnException.badInput("unknown builder '" + builder + "': there is no containers/" + builder
                    + "/Dockerfile (set builder in kiln.yaml or --builder)");
        }
        return files;
    }

    /** Refuses a remote source the fetcher would not open (a {@code file:} URL outside sources.folder), reading nothing. */
    void checkSourceLocations(SourceFetcher fetcher) {
        for (EvaluatedSpec.SourceTag source : remoteSources) {
            fetcher.check(specPath + ":" + source.line() + ": Source" + source.number(), source.value());
        }
    }

    long sourceDateEpoch() {
        return snapshot.commitTime();
    }

    private static String knownPackages(Path root) {
        Path specs = root.resolve("specs");
        if (!Files.isDirectory(specs)) {
            return "none";
        }
        try (Stream<Path> list = Files.list(specs)) {
            return String.join(", ", list.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList());
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
