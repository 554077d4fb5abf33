package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.git.DefinitionRepository;
import dev.kiln.source.SourceCache;
import dev.kiln.source.SourceFetcher;
import dev.kiln.source.SourcesFile;
import dev.kiln.specfile.SpecDocument;
import dev.kiln.specfile.EvaluatedSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code kiln bump}: moves a package to a new upstream version in one step. Everything is
 * checked and prepared first (spec edits, the new source and its checksum, the patches against
 * the new source); only then are the files written and committed on a new branch, so bad input
 * changes nothing on disk or in Git. The bumped package is then built, guarded and published.
 */
public final class BumpService {

    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9._+~^]+");

    private final KilnConfig config;
    private final BuildListener listener;
    private final java.util.Optional<BuildService.Resident> resident;

    public BumpService(KilnConfig config, BuildListener listener) {
        this(config, listener, java.util.Optional.empty());
    }

    private BumpService(KilnConfig config, BuildListener listener, java.util.Optional<BuildService.Resident> resident) {
        this.config = config;
        this.listener = listener;
        this.resident = resident;
    }

    /** This bump, on the engine connection and key a long-lived process holds (see {@link BuildService#with}). */
    public BumpService with(BuildService.Resident lent) {
        return new BumpService(config, listener, java.util.Optional.of(lent));
    }

    public BumpResult bump(BumpRequest request) {
        return bump(request, (branch, commit) -> { });
    }

    /**
     * As {@link #bump(BumpRequest)}; {@code committed} is told the branch and commit as soon as the
     * commit is made, before the build (the service pushes the branch there, so a build that fails
     * still leaves it to fix).
     */
    public BumpResult bump(BumpRequest request, java.util.function.BiConsumer<String, String> committed) {
        String pkg = request.packageName();
        String to = request.toVersion();
        if (!VERSION.matcher(to).matches() || !Character.isLetterOrDigit(to.charAt(0))) {
            throw KilnException.badInput("--to '" + to + "' is not a valid RPM version: use letters, digits and . _ + ~ ^ "
                    + "(no '-' or spaces), e.g. 3.9.10");
        }
        if (request.autoDrop() && !request.fetch()) {
            throw KilnException.badInput("--auto-drop tries the patches against the new source, which --no-fetch does not fetch: "
                    + "drop one of the two options");
        }
        List<BumpResult.DroppedPatch> dropped = new ArrayList<>();
        List<String> todo = new ArrayList<>();
        String branch = "bump/" + pkg + "-" + to;
        String commit;
        String from;
        String release;
        List<String> kept;
        SpecEvaluator evaluator = new SpecEvaluator(config.cache(), PackageBuild.limits(config), listener);
        try (DefinitionRepository git = DefinitionRepository.open(config.root())) {
            listener.stage("Start: bump " + pkg + " to " + to);
            DefinitionRepository.Snapshot snapshot = PackageInputs.snapshot(git, pkg, config.builder(), null);
            SpecEvaluator.SpecFiles files = PackageInputs.specFiles(git, snapshot, pkg, null);
            try (BuilderSession session = new BuilderSession(config, config.builder(),
                    PackageInputs.builderFiles(git, snapshot, config.builder()), listener, resident.map(BuildService.Resident::engine))) {
                EvaluatedSpec original = evaluator.evaluate(List.of(files), session).get(pkg).require();
                PackageInputs in = PackageInputs.read(git, snapshot, pkg, config.builder(), null, original);
                git.requireClean(List.of("specs/" + pkg, "patches/" + pkg));
                var author = git.author();
                SpecDocument doc = SpecDocument.parse(in.specPath(), BuildService.read(in.specBytes()));
                from = original.version();
                if (from.equals(to)) {
                    throw KilnException.badInput("--to " + to + " is the version " + in.specPath() + " already has: name a new version");
                }
                if (git.branchExists(branch)) {
                    throw KilnException.badInput("branch " + branch + " already exists: delete it (git branch -D " + branch
                            + ") or bump to another version");
                }
                doc = doc.bump(to);
                Set<Integer> droppedNumbers = new LinkedHashSet<>();
                for (String name : new LinkedHashSet<>(request.dropPatches())) {
                    EvaluatedSpec.PatchTag patch = original.patches().stream()
                            .filter(p -> p.fileName().equals(name) || p.value().equals(name)).findFirst()
                            .orElseThrow(() -> unknownPatch(in.specPath(), name, original));
                    if (doc.patchLine(patch.number()) == 0) {
                        throw KilnException.badInput(in.specPath() + ": Patch" + patch.number() + " (" + patch.fileName()
                                + ") is made by a macro, not written as a Patch" + patch.number() + ": line; remove it by hand");
                    }
                    doc = doc.dropPatch(patch.number());
                    droppedNumbers.add(patch.number());
                    dropped.add(new BumpResult.DroppedPatch(patch.fileName(), "requested"));
                }

                // rpm reads the edited spec: the new version's sources, and its release.
                SpecEvaluator.Evaluation first = evaluate(evaluator, session, files, doc, dropped);
                EvaluatedSpec bumped = BumpCheck.confirm(original, first, doc, to, droppedNumbers);
                Set<String> referenced = new LinkedHashSet<>();
                bumped.sources().forEach(s -> referenced.add(s.fileName()));
                Set<String> stale = new LinkedHashSet<>();
                in.sources().entries().stream().map(SourcesFile.Entry::fileName).filter(f -> !referenced.contains(f)).forEach(stale::add);
                List<SourcesFile.Entry> added = new ArrayList<>();
                Map<String, Path> fetched = new LinkedHashMap<>();
                SourceCache cache = new SourceCache(config.cache(), new SourceFetcher(config.sourcesFolder()));
                for (EvaluatedSpec.SourceTag source : bumped.sources()) {
                    if (!source.isRemote() || in.localSources().containsKey(source.fileName())
                            || in.sources().find(source.fileName()).isPresent()) {
                        continue;
                    }
                    if (!request.fetch()) {
                        todo.add("add 'SHA512 (" + source.fileName() + ") = <sha512>' to " + in.sourcesPath()
                                + " (Source" + source.number() + " " + SourceFetcher.location(source.value()) + ") before a build");
                        continue;
                    }
                    listener.stage("Start: fetch " + source.fileName());
                    SourcesFile.Entry entry = cache.add(source.fileName(), SourceFetcher.location(source.value()), listener::notice);
                    listener.notice(source.fileName() + " sha512:" + entry.sha512());
                    added.add(entry);
                    fetched.put(source.fileName(), cache.pathOf(entry.sha512()));
                }

                // The remaining patches against the new source.
                EvaluatedSpec.SourceTag source0 = bumped.source(0).orElse(null);
                if (!bumped.patches().isEmpty() && source0 != null && fetched.containsKey(source0.fileName())) {
                    doc = tryPatches(in, doc, bumped, source0.fileName(), fetched.get(source0.fileName()), request, session, dropped,
                            droppedNumbers);
                } else if (!bumped.patches().isEmpty() && !request.fetch()) {
                    todo.add("the patches were not tried against " + to + " (--no-fetch): the first build will show any that no longer applies");
                }

                String dist = evaluator.dist(session);
                release = dist.isEmpty() ? bumped.release() : bumped.release().replace(dist, "");
                String evr = (bumped.epoch().isEmpty() ? "" : bumped.epoch() + ":") + to + "-" + release;
                List<String> entry = new ArrayList<>();
                entry.add("Update to " + to);
                for (BumpResult.DroppedPatch d : dropped) {
                    entry.add("Drop " + d.fileName() + (d.reason().equals("merged upstream") ? " (merged upstream)" : ""));
                }
                if (request.acceptChanges()) {
                    entry.add("Release guard findings accepted for this update (--accept-changes)");
                }
                doc = doc.addChangelogEntry(author.getName(), author.getEmailAddress(), LocalDate.now(), evr, entry);

                // rpm reads the spec as it will be committed: the edit is kept only if rpm confirms it.
                EvaluatedSpec result = BumpCheck.confirm(original, evaluate(evaluator, session, files, doc, dropped), doc, to,
                        droppedNumbers);
                kept = result.patches().stream().map(EvaluatedSpec.PatchTag::fileName).toList();

                Map<String, byte[]> writes = new LinkedHashMap<>();
                writes.put(in.specPath(), doc.render().getBytes(StandardCharsets.UTF_8));
                if (!stale.isEmpty() || !added.isEmpty()) {
                    Path sourcesFile = config.root().resolve(in.sourcesPath());
                    String sourcesText = readIfExists(sourcesFile);
                    writes.put(in.sourcesPath(), SourcesFile.rewrite(sourcesText, stale, added).getBytes(StandardCharsets.UTF_8));
                }
                List<String> deletes = dropped.stream().map(d -> "patches/" + pkg + "/" + d.fileName()).toList();
                StringBuilder message = new StringBuilder(pkg + ": update to " + to + "\n\n");
                message.append("- Version ").append(from).append(" -> ").append(to).append(", Release ").append(release).append('\n');
                dropped.forEach(d -> message.append("- Drop patches/").append(pkg).append('/').append(d.fileName())
                        .append(" (").append(d.reason()).append(")\n"));
                added.forEach(a -> message.append("- Source ").append(a.fileName()).append(" sha512 ").append(a.sha512(), 0, 16).append("...\n"));
                stale.forEach(s -> message.append("- Remove sources entry ").append(s).append('\n'));
                commit = git.commitOnNewBranch(branch, writes, deletes, message.toString(), author);
                listener.notice("committed " + commit.substring(0, 12) + " on branch " + branch);
            }
        }
        committed.accept(branch, commit);
        List<BuildResult> builds = List.of();
        if (request.build() && todo.isEmpty()) {
            BuildService service = new BuildService(config, listener);
            builds = resident.map(service::with).orElse(service).build(BuildRequest.of(List.of(pkg), null, BuildRequest.publishing(request.publish(), request.acceptChanges()),
                    List.of("kiln", "bump", pkg, "--to", to)));
        } else if (request.build()) {
            todo.add("build it once the above is done: ./kiln build " + pkg);
        }
        return new BumpResult(pkg, from, to, release, List.copyOf(dropped), kept, branch, commit, List.copyOf(todo), builds);
    }

    private static String readIfExists(Path file) {
        try {
            return java.nio.file.Files.exists(file) ? java.nio.file.Files.readString(file) : "";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** rpm's reading of {@code doc} with the package's files, the dropped patches' files left out. */
    private static SpecEvaluator.Evaluation evaluate(SpecEvaluator evaluator, BuilderSession session, SpecEvaluator.SpecFiles files,
            SpecDocument doc, List<BumpResult.DroppedPatch> dropped) {
        Map<String, byte[]> patches = new LinkedHashMap<>(files.patches());
        dropped.forEach(d -> patches.remove(d.fileName()));
        SpecEvaluator.SpecFiles edited = new SpecEvaluator.SpecFiles(files.packageName(), files.specPath(),
                doc.render().getBytes(StandardCharsets.UTF_8), files.local(), patches);
        return evaluator.evaluate(List.of(edited), session).get(files.packageName());
    }

    private static KilnException unknownPatch(String specPath, String name, EvaluatedSpec spec) {
        String known = spec.patches().stream().map(p -> p.number() + " " + p.fileName()).collect(java.util.stream.Collectors.joining(", "));
        return KilnException.badInput(specPath + ": no patch '" + name + "'; the spec has: " + (known.isEmpty() ? "none" : known)
                + "; name one of these");
    }

    private SpecDocument tryPatches(PackageInputs in, SpecDocument doc, EvaluatedSpec bumped, String sourceName,
            Path source, BumpRequest request, BuilderSession session, List<BumpResult.DroppedPatch> dropped,
            Set<Integer> droppedNumbers) {
        List<EvaluatedSpec.PatchTag> remaining = bumped.patches();
        listener.stage("Start: try " + remaining.size() + " patch(es) against " + sourceName);
        Map<Integer, Integer> strips = new java.util.HashMap<>();
        doc.patches().forEach(p -> strips.putIfAbsent(p.number(), p.strip()));
        Map<String, Integer> numbers = new LinkedHashMap<>();
        List<PatchTrial.Candidate> candidates = new ArrayList<>();
        for (EvaluatedSpec.PatchTag p : remaining) {
            byte[] content = in.patches().get(p.fileName());
            if (content == null) {
                throw KilnException.badInput("Patch" + p.number() + " names " + p.fileName() + ", which is not in patches/"
                        + in.packageName() + "/");
            }
            numbers.put(p.fileName(), p.number());
            candidates.add(new PatchTrial.Candidate(p.fileName(), content, strips.getOrDefault(p.number(), 0)));
        }
        List<PatchTrial.Outcome> outcomes = PatchTrial.run(session.engine(), session.image().imageId(), PackageBuild.limits(config),
                source, sourceName, candidates, listener);
        String where = "patches/" + in.packageName() + "/";
        for (PatchTrial.Outcome o : outcomes) {
            switch (o.verdict()) {
                case APPLIES -> { }
                case MERGED_UPSTREAM -> {
                    if (!request.autoDrop()) {
                        throw KilnException.badInput(where + o.patch() + " is already in " + sourceName
                                + " (it applies in reverse): drop it with --drop-patch " + o.patch() + " or use --auto-drop");
                    }
                    int number = numbers.get(o.patch());
                    if (doc.patchLine(number) == 0) {
                        throw KilnException.badInput(where + o.patch() + " is already in " + sourceName + ", but Patch" + number
                                + " is made by a macro, not written as a Patch" + number + ": line in " + in.specPath()
                                + ": remove it by hand");
                    }
                    doc = doc.dropPatch(number);
                    droppedNumbers.add(number);
                    dropped.add(new BumpResult.DroppedPatch(o.patch(), "merged upstream"));
                }
                case FAILS -> {
                    o.detail().lines().forEach(listener::log);
                    String hunk = o.detail().lines().filter(l -> l.contains("FAILED") || l.contains("can't find file"))
                            .findFirst().orElse("it neither applies nor reverse-applies");
                    throw KilnException.badInput(where + o.patch() + " no longer applies to " + sourceName + ": " + hunk
                            + " (the failing hunk is shown above): refresh the patch, or drop it with --drop-patch " + o.patch());
                }
            }
        }
        return doc;
    }
}
