package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.container.BuilderImage;
import dev.kiln.container.ContainerLimits;
import dev.kiln.container.DockerEngine;
import dev.kiln.container.PinnedImage;
import dev.kiln.git.DefinitionRepository;
import dev.kiln.source.SourceCache;
import dev.kiln.source.SourceFetcher;
import dev.kiln.source.SourcesFile;
import dev.kiln.specfile.SpecDocument;
import dev.kiln.specfile.SpecFile;
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

    public BumpService(KilnConfig config, BuildListener listener) {
        this.config = config;
        this.listener = listener;
    }

    public BumpResult bump(BumpRequest request) {
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
        try (DefinitionRepository git = DefinitionRepository.open(config.root())) {
            listener.stage("Start: bump " + pkg + " to " + to);
            PackageInputs in = PackageInputs.read(git, pkg, config.builder(), null);
            git.requireClean(List.of("specs/" + pkg, "patches/" + pkg));
            var author = git.author();
            SpecDocument doc = SpecDocument.parse(in.specPath(), BuildService.read(in.specBytes()));
            from = doc.version();
            if (from.equals(to)) {
                throw KilnException.badInput("--to " + to + " is the version " + in.specPath() + " already has: name a new version");
            }
            if (git.branchExists(branch)) {
                throw KilnException.badInput("branch " + branch + " already exists: delete it (git branch -D " + branch
                        + ") or bump to another version");
            }
            doc = doc.bump(to);
            for (String patch : new LinkedHashSet<>(request.dropPatches())) {
                doc = doc.dropPatch(patch);
                dropped.add(new BumpResult.DroppedPatch(patch, "requested"));
            }

            // The new source: fetched and checksummed now, so the commit carries a buildable sources file.
            SpecFile bumped = SpecFile.parse(in.specPath(), doc.render());
            Set<String> referenced = new LinkedHashSet<>();
            bumped.sources().forEach(s -> referenced.add(s.fileName()));
            Set<String> stale = new LinkedHashSet<>();
            in.sources().entries().stream().map(SourcesFile.Entry::fileName).filter(f -> !referenced.contains(f)).forEach(stale::add);
            List<SourcesFile.Entry> added = new ArrayList<>();
            Map<String, Path> fetched = new LinkedHashMap<>();
            SourceCache cache = new SourceCache(config.cache(), new SourceFetcher(config.sourcesFolder()));
            for (SpecFile.SourceTag source : bumped.sources()) {
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
            List<SpecDocument.Patch> remaining = doc.patches();
            SpecFile.SourceTag source0 = bumped.source(0).orElse(null);
            if (!remaining.isEmpty() && source0 != null && fetched.containsKey(source0.fileName())) {
                doc = tryPatches(in, doc, remaining, source0.fileName(), fetched.get(source0.fileName()), request, dropped);
            } else if (!remaining.isEmpty() && !request.fetch()) {
                todo.add("the patches were not tried against " + to + " (--no-fetch): the first build will show any that no longer applies");
            }

            release = SpecFile.parse(in.specPath(), doc.render()).release();
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
            kept = doc.patches().stream().map(SpecDocument.Patch::fileName).toList();

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
        List<BuildResult> builds = List.of();
        if (request.build() && todo.isEmpty()) {
            builds = new BuildService(config, listener).build(BuildRequest.of(List.of(pkg), null, true, request.acceptChanges(),
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

    private SpecDocument tryPatches(PackageInputs in, SpecDocument doc, List<SpecDocument.Patch> remaining, String sourceName,
            Path source, BumpRequest request, List<BumpResult.DroppedPatch> dropped) {
        listener.stage("Start: try " + remaining.size() + " patch(es) against " + sourceName);
        List<PatchTrial.Candidate> candidates = new ArrayList<>();
        for (SpecDocument.Patch p : remaining) {
            byte[] content = in.patches().get(p.fileName());
            if (content == null) {
                throw KilnException.badInput("Patch" + p.number() + " names " + p.fileName() + ", which is not in patches/"
                        + in.packageName() + "/");
            }
            candidates.add(new PatchTrial.Candidate(p.fileName(), content, p.strip()));
        }
        ContainerLimits limits = new ContainerLimits(config.build().memoryBytes(), config.build().pids(), config.build().timeout());
        List<PatchTrial.Outcome> outcomes;
        try (DockerEngine engine = DockerEngine.connect(config.state(), listener::notice)) {
            PinnedImage image = BuilderImage.resolve(engine, in.builder(), in.builderContext(), in.builderLock(), listener::notice);
            outcomes = PatchTrial.run(engine, image.imageId(), limits, source, sourceName, candidates, listener);
        }
        String where = "patches/" + in.packageName() + "/";
        for (PatchTrial.Outcome o : outcomes) {
            switch (o.verdict()) {
                case APPLIES -> { }
                case MERGED_UPSTREAM -> {
                    if (!request.autoDrop()) {
                        throw KilnException.badInput(where + o.patch() + " is already in " + sourceName
                                + " (it applies in reverse): drop it with --drop-patch " + o.patch() + " or use --auto-drop");
                    }
                    doc = doc.dropPatch(o.patch());
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
