package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.config.ConfigLoader;
import dev.kiln.config.KilnConfig;
import dev.kiln.container.PinnedImage;
import dev.kiln.container.ProvidedCapability;
import dev.kiln.git.DefinitionRepository;
import dev.kiln.git.SourceMirror;
import dev.kiln.guard.Releases;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.repo.Publication;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Targets;
import dev.kiln.repo.ServedRepository;
import dev.kiln.repo.TargetReleases;
import dev.kiln.repo.PublishedBuild;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.SigningKey;
import dev.kiln.source.SourceFetcher;
import dev.kiln.specfile.Capabilities;
import dev.kiln.specfile.EvaluatedSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * A build run: decide which packages to build and in what order (named ones, all, or what
 * changed and what depends on it), check every definition before any container starts, skip
 * what the repository already holds a build of (same build key), build the rest in parallel up
 * to the job limit with internal build dependencies installed, and publish all of them, guarded
 * and with provenance, only when every one built.
 */
public final class BuildService {

    private static final Executor VIRTUAL = Executors.newVirtualThreadPerTaskExecutor();

    private final KilnConfig config;
    private final BuildListener listener;
    private final TargetConfig releaseTarget;
    private final Map<String, String> env;
    /** The engine connection and key a long-lived process holds for all its runs; empty: this run's own. */
    private final Optional<Resident> resident;

    /**
     * What a long-lived process (the service) lends each run: its one engine connection (a
     * {@link DockerEngine#labelled} view of it, closed by the run without closing the connection)
     * and the signing key it loaded once. A run with them neither connects nor creates a key.
     */
    public record Resident(dev.kiln.container.DockerEngine engine, SigningKey key) {
    }

    public BuildService(KilnConfig config, BuildListener listener) {
        this(config, listener, config.target(Optional.empty()), System.getenv());
    }

    /**
     * @param releaseTarget where a publishing build ships: beside the project's own repository (which
     *     builds read their dependencies, released versions and build keys from), unless it is that folder
     * @param env where the target's credentials come from
     */
    public BuildService(KilnConfig config, BuildListener listener, TargetConfig releaseTarget, Map<String, String> env) {
        this.config = config;
        this.listener = listener;
        this.releaseTarget = releaseTarget;
        this.env = env;
        this.resident = Optional.empty();
    }

    private BuildService(BuildService from, Resident resident) {
        this.config = from.config;
        this.listener = from.listener;
        this.releaseTarget = from.releaseTarget;
        this.env = from.env;
        this.resident = Optional.of(resident);
    }

    /** This service, running with the engine and key a long-lived process holds. */
    public BuildService with(Resident lent) {
        return new BuildService(this, lent);
    }

    private SigningKey key() {
        return resident.map(Resident::key).orElseGet(() -> Keys.loadOrCreate(config.signing(), config.state(), listener));
    }

    /**
     * Makes sure the engine holds the builder image of the project's {@code rev} (building it, and
     * its base, when missing): what {@code kiln serve --setup} does, so no request has to.
     */
    public static PinnedImage prepareBuilder(KilnConfig config, String rev, BuildListener listener, dev.kiln.container.DockerEngine engine) {
        try (DefinitionRepository git = DefinitionRepository.open(config.root())) {
            DefinitionRepository.Snapshot at = git.snapshot(rev, List.of());
            try (BuilderSession session = new BuilderSession(config, config.builder(), PackageInputs.builderFiles(git, at, config.builder()),
                    listener, Optional.of(engine), true)) {
                return session.image();
            }
        }
    }

    /** Whether builds ship anywhere but the project's own repository folder. */
    private boolean shipsElsewhere() {
        return !(releaseTarget.kind() == TargetConfig.Kind.DIRECTORY && releaseTarget.path().equals(Optional.of(config.repository())));
    }

    /** Builds, failing with the first failure's error: for callers that need every package built. */
    public List<BuildResult> build(BuildRequest request) {
        BuildRun run = run(request);
        for (BuildOutcome o : run.outcomes()) {
            if (o instanceof BuildOutcome.Failed f) {
                throw new KilnException(f.exitCode(), f.message());
            }
        }
        if (run.exitCode() != 0) {
            throw new KilnException(run.exitCode(), run.note());
        }
        return run.built();
    }

    public BuildRun run(BuildRequest request) {
        long started = System.nanoTime();
        if (request.jobs() < 1) {
            throw KilnException.badInput("--jobs " + request.jobs() + ": give 1 or more parallel builds");
        }
        // Published packages stay where this run lists them, however many publishes happen meanwhile.
        try (DefinitionRepository git = DefinitionRepository.open(config.root())) {
            String builder = config.builder();
            // Reading the definitions needs no status of the working tree (whether it is dirty, for the records).
            DefinitionRepository.Snapshot compared = request.rev() == null ? DefinitionRepository.Snapshot.WORKING_TREE
                    : git.snapshot(request.rev(), List.of());
            Optional<Set<String>> changed = changed(git, compared, request);
            if (changed.isPresent() && changed.get().isEmpty()) {
                String note = "no package changed since " + request.changedSince();
                listener.notice(note);
                return new BuildRun(List.of(), false, elapsed(started), note, 0);
            }
            // Files are read from it; each package's own snapshot, with its status, is taken when its inputs are read.
            DefinitionRepository.Snapshot target = compared;
            // A no-op run (above) needs no repository; the rest reads it.
            try (DirectoryRepository repository = new DirectoryRepository(config.repository())) {
                // specs/ and patches/ are read once, for every package
                Map<String, byte[]> specsTree = git.files(target, "specs");
                Map<String, byte[]> patchesTree = git.files(target, "patches");
                Set<String> folders = packageFolders(specsTree);
                if (changed.isPresent()) {
                    // everything, or the changed packages that still exist
                    changed = Optional.of(changed.get().equals(EVERY_PACKAGE) ? folders
                            : changed.get().stream().filter(folders::contains).collect(Collectors.toCollection(TreeSet::new)));
                }
                if (request.changedSince() == null && !request.all()) {
                    if (request.packages().isEmpty()) {
                        throw KilnException.badInput("build: name packages, or use --all or --changed-since REF (see ./kiln build --help)");
                    }
                    for (String pkg : request.packages()) {
                        // reports what is wrong: no such package, or no spec
                        PackageInputs.specFiles(git, target, pkg, request.rev());
                    }
                }
                Map<String, byte[]> builderFiles = PackageInputs.builderFiles(git, target, builder);
                try (BuilderSession session = new BuilderSession(config, builder, builderFiles, listener,
                        resident.map(Resident::engine))) {
                    // Every run that gets here needs the engine (to read specs or to check the image): connect while Git is read.
                    session.connectSoon();
                    Map<String, EvaluatedSpec> specs = specs(specsTree, patchesTree, folders, request, session);
                    Capabilities image = imageCapabilities(builder, builderFiles);
                    Set<String> requested = requested(request, specs, changed, image);
                    SigningKey pulledWith = request.publish() && shipsElsewhere() ? pullReleases(repository, specs.keySet()) : null;
                    List<RpmFile> published = repository.currentSnapshot() == null ? List.of() : repository.packages();
                    Set<String> released = published.stream().filter(r -> !r.source()).map(RpmFile::sourceName).collect(Collectors.toSet());
                    BuildPlan plan = BuildPlan.resolve(specs, requested, image, builder, released::contains);

                    // Every definition is read and checked before anything starts, so bad input changes nothing.
                    Map<String, PackageInputs> inputs = new LinkedHashMap<>();
                    for (String pkg : plan.order()) {
                        listener.stage("Start: read definitions of " + pkg);
                        inputs.put(pkg, PackageInputs.read(git, PackageInputs.snapshot(git, pkg, builder, request.rev()), pkg, builder,
                                request.rev(), specs.get(pkg)));
                        inputs.get(pkg).checkSourceLocations(new SourceFetcher(config.sourcesFolder()));
                    }
                    if (request.publish()) {
                        if (inputs.values().stream().anyMatch(in -> in.snapshot().commit() == null)) {
                            throw KilnException.badInput(config.root() + " has no commit yet: commit specs/, patches/ and containers/"
                                    + " first (a published build records the commit it was built from), or build with --no-publish");
                        }
                        repository.checkWritable();
                        if (shipsElsewhere()) {
                            // unreachable, refused credentials or an unwritable folder stop the run before any build work
                            atReleaseTarget(() -> {
                                try (PublishTarget ship = Targets.open(releaseTarget, env, config.cache())) {
                                    ship.check();
                                }
                                return null;
                            });
                        }
                    }
                    SigningKey key = pulledWith != null ? pulledWith : key();
                    PinnedImage pinned = session.image();
                    String dist = evaluator().dist(session);
                    Map<String, String> keys = buildKeys(plan, inputs, pinned, published, repository);
                    List<BuildOutcome> outcomes = schedule(plan, inputs, keys, new PackageBuild(config, session.engine(), pinned, key, dist),
                            repository, published, dist, request);
                    return finish(outcomes, request, repository, key, pinned, started);
                }
            }
        }
    }

    /**
     * Brings into the project's folder the newest release on the target of each package of this
     * project that the folder lacks (published there from another machine), so the plan, the build
     * keys and the release guard see what the target holds. Checked like dnf checks it: checksums
     * and the company key's signatures.
     *
     * @return the signing key, loaded for the check
     */
    private SigningKey pullReleases(DirectoryRepository repository, Set<String> packages) {
        listener.stage("Start: read the releases on target " + releaseTarget.name() + " (" + releaseTarget.describe() + ")");
        SigningKey key = key();
        TargetReleases.Pulled pulled = atReleaseTarget(() -> {
            try (PublishTarget ship = Targets.open(releaseTarget, env, config.cache());
                    ServedRepository served = ServedRepository.open(ship, env, config.cache().resolve("pull"))) {
                return TargetReleases.pull(served, repository, packages, key);
            }
        });
        listener.stage("Finish: read the releases on target " + releaseTarget.name() + " (" + pulled.added().size()
                + " package(s) new to " + config.repository() + ")");
        return key;
    }

    /**
     * Runs {@code work} on the release target of a publish (reading its releases, checking that it
     * takes writes, publishing); when it fails (the target unreachable, refusing the write, full),
     * the listener hears of it before the failure is thrown on.
     */
    private <T> T atReleaseTarget(java.util.function.Supplier<T> work) {
        try {
            return work.get();
        } catch (RuntimeException e) {
            // a stop is no failure of the target
            if (!(e instanceof KilnException k && k.exitCode() == KilnException.INTERRUPTED)) {
                listener.publishFailed(releaseTarget.name());
            }
            throw e;
        }
    }

    private SpecEvaluator evaluator() {
        return new SpecEvaluator(config.cache(), PackageBuild.limits(config), listener);
    }

    /** The packages of the snapshot: the folders specs/&lt;pkg&gt;/ that hold &lt;pkg&gt;.spec. */
    private static Set<String> packageFolders(Map<String, byte[]> specsTree) {
        Set<String> out = new TreeSet<>();
        for (String path : specsTree.keySet()) {
            String[] parts = path.split("/");
            if (parts.length == 2 && parts[1].equals(parts[0] + ".spec")) {
                out.add(parts[0]);
            }
        }
        return out;
    }

    /**
     * Every spec as rpm reads it. A spec rpm refuses stops the run when it is to be built;
     * otherwise it only cannot provide anything.
     */
    private Map<String, EvaluatedSpec> specs(Map<String, byte[]> specsTree, Map<String, byte[]> patchesTree, Set<String> folders,
            BuildRequest request, BuilderSession session) {
        List<SpecEvaluator.SpecFiles> files = new ArrayList<>();
        for (String pkg : folders) {
            files.add(new SpecEvaluator.SpecFiles(pkg, "specs/" + pkg + "/" + pkg + ".spec", specsTree.get(pkg + "/" + pkg + ".spec"),
                    below(specsTree, pkg + "/", pkg + ".spec"), below(patchesTree, pkg + "/", null)));
        }
        Map<String, EvaluatedSpec> specs = new TreeMap<>();
        for (SpecEvaluator.Evaluation e : evaluator().evaluate(files, session).values()) {
            if (e.refusal() == null) {
                specs.put(e.packageName(), e.spec());
            } else if (request.all() || request.changedSince() != null || request.packages().contains(e.packageName())) {
                throw e.refusal();
            }
        }
        return specs;
    }

    /** The entries of {@code tree} under {@code prefix}, keyed without it, leaving out {@code except}. */
    private static Map<String, byte[]> below(Map<String, byte[]> tree, String prefix, String except) {
        Map<String, byte[]> out = new TreeMap<>();
        tree.forEach((path, bytes) -> {
            if (path.startsWith(prefix) && !path.substring(prefix.length()).equals(except)) {
                out.put(path.substring(prefix.length()), bytes);
            }
        });
        return out;
    }

    /** What {@link #changed} returns when kiln.yaml or the builder changed ("*" is no package name). */
    private static final Set<String> EVERY_PACKAGE = Set.of("*");

    /**
     * The packages whose folders changed since {@code --changed-since} ({@link #EVERY_PACKAGE}
     * when kiln.yaml or the builder changed); empty Optional without the option. Only the
     * definitions are compared, so a no-op CI run reads no spec.
     */
    private Optional<Set<String>> changed(DefinitionRepository git, DefinitionRepository.Snapshot target, BuildRequest request) {
        if (request.changedSince() == null) {
            return Optional.empty();
        }
        Set<String> changed = changedPackages(git, request.changedSince(), target, config.builder());
        if (changed.equals(EVERY_PACKAGE)) {
            listener.notice("kiln.yaml or builder " + config.builder() + " changed since " + request.changedSince()
                    + ": every package is affected");
        }
        return Optional.of(changed);
    }

    /**
     * The packages whose definitions (their folders under specs/ and patches/) differ between
     * {@code since} and {@code target}; {@code {"*"}} when kiln.yaml or the builder's folder
     * differs, since that changes every package. What {@code --changed-since} builds, before
     * dependents are added; the service asks it to tell a push that changed no package.
     */
    public static Set<String> changedPackages(DefinitionRepository git, String since, DefinitionRepository.Snapshot target,
            String builder) {
        Set<String> changed = new TreeSet<>();
        for (String path : git.changedSince(since, target, List.of("specs", "patches", "containers/" + builder, ConfigLoader.FILE_NAME))) {
            String[] parts = path.split("/");
            if (path.equals(ConfigLoader.FILE_NAME) || (parts[0].equals("containers") && parts.length > 2 && parts[1].equals(builder))) {
                return EVERY_PACKAGE;
            } else if ((parts[0].equals("specs") || parts[0].equals("patches")) && parts.length > 2) {
                changed.add(parts[1]);
            }
        }
        return changed;
    }

    private Set<String> requested(BuildRequest request, Map<String, EvaluatedSpec> specs, Optional<Set<String>> changed,
            Capabilities image) {
        if (request.all()) {
            return new TreeSet<>(specs.keySet());
        }
        if (changed.isEmpty()) {
            return new TreeSet<>(request.packages());
        }
        Set<String> affected = BuildPlan.withDependents(specs, changed.get(), image, config.builder());
        listener.notice("changed since " + request.changedSince() + ": " + changed.get()
                + (affected.size() > changed.get().size() ? "; with their dependents: " + affected : ""));
        return affected;
    }

    private static Capabilities imageCapabilities(String builder, Map<String, byte[]> builderFiles) {
        byte[] provides = builderFiles.get("provides");
        Map<String, String> caps = new TreeMap<>();
        if (provides != null) {
            for (ProvidedCapability c : ProvidedCapability.parse(read(provides), "containers/" + builder + "/provides")) {
                caps.putIfAbsent(c.name(), c.version() == null ? "" : c.version());
            }
        }
        return Capabilities.of(caps);
    }

    /** Build keys in build order, so each can include the keys of what it builds on. */
    private static Map<String, String> buildKeys(BuildPlan plan, Map<String, PackageInputs> inputs, PinnedImage image,
            List<RpmFile> published, DirectoryRepository repository) {
        Map<String, String> keys = new LinkedHashMap<>();
        for (String pkg : plan.order()) {
            PackageInputs in = inputs.get(pkg);
            Map<String, String> dependencyKeys = new TreeMap<>();
            for (String dep : plan.dependencies(pkg)) {
                dependencyKeys.put(dep, keys.containsKey(dep) ? keys.get(dep) : releasedKey(dep, published, repository));
            }
            Map<String, String> remote = new TreeMap<>();
            in.remoteSources().forEach(s -> remote.put(s.fileName(), in.sources().find(s.fileName()).orElseThrow().sha512()));
            keys.put(pkg, BuildKey.of(pkg, in.specBytes(), in.patches(), in.localSources(), remote, image.toolchainDigest(),
                    dependencyKeys).value());
        }
        return keys;
    }

    /**
     * The build key of a dependency taken from the repository: the one its provenance records, or,
     * for a release published without provenance, a key derived from its NEVRAs.
     */
    private static String releasedKey(String dep, List<RpmFile> published, DirectoryRepository repository) {
        List<RpmFile> release = Releases.latest(published, dep);
        Set<String> files = release.stream().map(r -> r.path().getFileName().toString()).collect(Collectors.toSet());
        for (Map.Entry<String, List<Path>> e : repository.buildKeys().entrySet()) {
            if (e.getValue().stream().anyMatch(p -> files.contains(p.getFileName().toString()))) {
                return e.getKey();
            }
        }
        String nevras = release.stream().map(r -> r.nevra().toString()).sorted().collect(Collectors.joining(","));
        return "sha256:" + dev.kiln.Sha256.hex("release:" + nevras);
    }

    /** How long Ctrl-C waits for the running builds to remove their containers and images. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(30);

    /**
     * Runs the builds, each after the ones it needs, up to the job limit. Every build ends as an
     * outcome, whatever it throws, and this returns only when every build has ended, so the
     * engine the caller closes afterwards is no longer in use. On Ctrl-C or SIGTERM no build
     * starts any more, the running ones end with their containers and clean up, and this throws
     * {@link KilnException#interrupted()}.
     */
    private List<BuildOutcome> schedule(BuildPlan plan, Map<String, PackageInputs> inputs, Map<String, String> keys,
            PackageBuild builds, DirectoryRepository repository, List<RpmFile> published, String dist, BuildRequest request) {
        boolean many = plan.order().size() > 1;
        // Only a build that will be published must not reuse a published release's NEVRA.
        boolean publishes = request.publish() && !request.checkReproducible();
        Semaphore slots = new Semaphore(request.jobs());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean interrupted = new AtomicBoolean();
        Map<String, CompletableFuture<BuildOutcome>> futures = new LinkedHashMap<>();
        Map<String, List<Path>> outputs = new java.util.concurrent.ConcurrentHashMap<>();
        // This run's own threads, so a signal can wait for each. They are not interrupted: an interrupted
        // thread's engine calls fail, and the cleanup (remove the container, then its image) needs them.
        // The build containers' own shutdown hooks remove the containers, which ends the builds.
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        Thread stopOnSignal = new Thread(() -> {
            interrupted.set(true);
            pool.shutdown();
            try {
                pool.awaitTermination(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "kiln-stop-builds");
        try {
            Runtime.getRuntime().addShutdownHook(stopOnSignal);
        } catch (IllegalStateException shuttingDown) {
            pool.close();
            throw KilnException.interrupted();
        }
        List<BuildOutcome> outcomes = new ArrayList<>();
        try (pool) {
            for (String pkg : plan.order()) {
                List<CompletableFuture<BuildOutcome>> needs = plan.dependencies(pkg).stream()
                        .filter(futures::containsKey).map(futures::get).toList();
                BuildListener out = many ? prefixed(pkg) : listener;
                CompletableFuture<BuildOutcome> future = CompletableFuture.allOf(needs.toArray(CompletableFuture[]::new))
                        .thenApplyAsync(ignored -> {
                            for (CompletableFuture<BuildOutcome> need : needs) {
                                BuildOutcome o = need.join();
                                if (o instanceof BuildOutcome.Failed || o instanceof BuildOutcome.Skipped) {
                                    return new BuildOutcome.Skipped(pkg, "needs " + o.packageName() + ", which did not build");
                                }
                            }
                            if (stop.get()) {
                                return new BuildOutcome.Skipped(pkg, "an earlier failure stopped the run (--keep-going builds the rest)");
                            }
                            String key = keys.get(pkg);
                            Optional<PublishedBuild> done = request.force() ? Optional.empty() : repository.findByBuildKey(key);
                            if (done.isPresent()) {
                                listener.notice(pkg + ": up to date (" + done.get().packages().getFirst() + ", build key "
                                        + key.substring(0, 19) + "...)");
                                outputs.put(pkg, done.get().rpms().stream().map(p -> repository.location().resolve(p))
                                        .filter(p -> !p.toString().endsWith(".src.rpm")).toList());
                                return new BuildOutcome.UpToDate(pkg, done.get().packages().getFirst().toString(), key);
                            }
                            slots.acquireUninterruptibly();
                            if (interrupted.get()) {
                                slots.release();
                                return new BuildOutcome.Skipped(pkg, "interrupted");
                            }
                            try {
                                BuildOutcome o = buildOne(builds, inputs.get(pkg), () -> dependencyRpms(plan, pkg, outputs, published),
                                        key, publishes ? RebuildSuffix.forBuild(inputs.get(pkg).spec(), published, dist) : null,
                                        out, request, interrupted);
                                if (o instanceof BuildOutcome.Built b) {
                                    outputs.put(pkg, b.result().rpms());
                                } else if (!request.keepGoing()) {
                                    stop.set(true);
                                }
                                return o;
                            } finally {
                                slots.release();
                            }
                        }, pool)
                        // Whatever escaped above (reading the repository, a rejected task after Ctrl-C) is this package's outcome.
                        .exceptionally(e -> {
                            if (!request.keepGoing()) {
                                stop.set(true);
                            }
                            return crashed(pkg, e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                                    ? e.getCause() : e, Optional.empty(), System.nanoTime(), out, interrupted);
                        });
                futures.put(pkg, future);
            }
            for (CompletableFuture<BuildOutcome> future : futures.values()) {
                outcomes.add(future.join());
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnSignal);
            } catch (IllegalStateException shuttingDown) {
                interrupted.set(true);
            }
        }
        if (interrupted.get() || dev.kiln.ExitHook.stopping()) {
            throw KilnException.interrupted();
        }
        return outcomes;
    }

    private BuildOutcome buildOne(PackageBuild builds, PackageInputs in, java.util.function.Supplier<Map<String, Path>> rpms,
            String key, String dist, BuildListener out, BuildRequest request, AtomicBoolean interrupted) {
        long started = System.nanoTime();
        Set<Path> earlierRecords = recordFolders(in.packageName());
        try {
            Map<String, Path> dependencies = rpms.get();
            BuildResult result = builds.build(in, dependencies, key, dist, out);
            if (request.checkReproducible()) {
                out.stage("Start: second build of " + in.packageName() + " to check reproducibility");
                BuildResult second = builds.build(in, dependencies, key, dist, out);
                Reproducibility.Report report = Reproducibility.compare(result.rpms(), second.rpms());
                report.render().lines().forEach(out::notice);
                if (!report.reproducible()) {
                    return new BuildOutcome.Failed(in.packageName(), in.packageName() + " is not reproducible: "
                            + report.render().lines().filter(l -> !l.startsWith(" ")).filter(l -> !l.contains("identical"))
                                    .collect(Collectors.joining("; ")),
                            KilnException.BUILD_FAILED, second.record().resolve("build.log"), elapsed(started));
                }
            }
            return new BuildOutcome.Built(result);
        } catch (KilnException e) {
            if (interrupted.get() || dev.kiln.ExitHook.stopping()) {
                // What a build says while it is being stopped (its container removed: "killed, out of memory?") is not true.
                return new BuildOutcome.Failed(in.packageName(), "interrupted", KilnException.INTERRUPTED, null, elapsed(started));
            }
            out.notice(in.packageName() + ": " + e.getMessage());
            return new BuildOutcome.Failed(in.packageName(), e.getMessage(), e.exitCode(), latestLog(in.packageName()),
                    elapsed(started));
        } catch (RuntimeException | Error e) {
            Optional<Path> record = recordFolders(in.packageName()).stream().filter(f -> !earlierRecords.contains(f))
                    .max(Path::compareTo);
            return crashed(in.packageName(), e, record, started, out, interrupted);
        }
    }

    /**
     * A build that failed with something other than a {@link KilnException}: a bug, or an engine
     * or disk failure Kiln has no message for. It becomes this package's failed outcome (the other
     * builds go on); the stack trace goes into its build record, or, when the build never got one,
     * into a file under the state folder, and the one line names that file.
     */
    private BuildOutcome crashed(String pkg, Throwable e, Optional<Path> record, long started, BuildListener out,
            AtomicBoolean interrupted) {
        if (interrupted.get() || dev.kiln.ExitHook.stopping()) {
            return new BuildOutcome.Failed(pkg, "interrupted", KilnException.INTERRUPTED, null, elapsed(started));
        }
        Path trace = record.isPresent() ? BuildRecord.crashed(record.get(), e) : CrashReport.write(config.state(), pkg, e);
        String message = pkg + ": " + CrashReport.line(e, trace);
        out.notice(message);
        return new BuildOutcome.Failed(pkg, message, KilnException.INTERNAL, trace, elapsed(started));
    }

    /** The build record folders of {@code pkg} that exist now. */
    private Set<Path> recordFolders(String pkg) {
        try (var folders = Files.list(config.records().resolve(pkg))) {
            return folders.filter(Files::isDirectory).collect(Collectors.toSet());
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
    }


    /**
     * The binary RPMs of {@code pkg}'s internal build dependencies (file name -> file): this run's,
     * or the latest release's. Paths, not bytes: an RPM of gigabytes is streamed into the build.
     */
    private static Map<String, Path> dependencyRpms(BuildPlan plan, String pkg, Map<String, List<Path>> outputs,
            List<RpmFile> published) {
        Map<String, Path> rpms = new TreeMap<>();
        for (String dep : plan.dependencies(pkg)) {
            List<Path> files = outputs.containsKey(dep) ? outputs.get(dep)
                    : Releases.latest(published, dep).stream().map(RpmFile::path).toList();
            for (Path file : files) {
                rpms.put(file.getFileName().toString(), file);
            }
        }
        return rpms;
    }

    private BuildRun finish(List<BuildOutcome> outcomes, BuildRequest request, DirectoryRepository repository, SigningKey key,
            PinnedImage image, long started) {
        Optional<BuildOutcome.Failed> failed = outcomes.stream().filter(BuildOutcome.Failed.class::isInstance)
                .map(BuildOutcome.Failed.class::cast).findFirst();
        List<BuildResult> built = outcomes.stream().filter(BuildOutcome.Built.class::isInstance)
                .map(o -> ((BuildOutcome.Built) o).result()).toList();
        if (failed.isPresent()) {
            String note = failed.get().packageName() + " failed" + (request.publish() && !built.isEmpty()
                    ? ": nothing was published (all or nothing)" : "");
            listener.notice(note);
            return new BuildRun(outcomes, false, elapsed(started), note, failed.get().exitCode());
        }
        // One statement per package for all its RPMs, in its build record (the service serves it with the
        // build's artifacts, also for a scratch build) and beside each RPM once published.
        Map<Path, byte[]> provenance = new LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        for (BuildResult r : built) {
            List<Path> all = new ArrayList<>(r.rpms());
            all.add(r.sourceRpm());
            byte[] statement = provenance(r, all, image, request);
            BuildRecord.provenance(r.record(), statement);
            all.forEach(rpm -> provenance.put(rpm, statement));
            files.addAll(all);
        }
        if (!request.publish() || request.checkReproducible() || built.isEmpty()) {
            return new BuildRun(outcomes, false, elapsed(started), "", 0);
        }
        try {
            for (BuildResult r : built) {
                GuardStage.check(repository, r, request.acceptChanges(), built.size() > 1 ? prefixed(r.packageName()) : listener);
            }
        } catch (KilnException e) {
            listener.notice(e.getMessage());
            return new BuildRun(outcomes, false, elapsed(started), e.getMessage(), e.exitCode());
        }
        listener.stage("Start: publish " + built.size() + " package(s) to " + config.repository());
        if (shipsElsewhere()) {
            // The target first: when it fails, nothing is published anywhere, and the build can simply be run again.
            listener.stage("Start: publish to target " + releaseTarget.name() + " (" + releaseTarget.describe() + ")");
            Publication shipped = atReleaseTarget(() -> {
                try (PublishTarget target = Targets.open(releaseTarget, env, config.cache())) {
                    return target.publish(files, provenance, key);
                }
            });
            listener.stage("Finish: publish to target " + releaseTarget.name() + " (" + shipped.added().size() + " file(s) added)");
            // the local folder after it is a copy: its failure is no failure of the target
            repository.publish(files, provenance, key);
        } else {
            atReleaseTarget(() -> {
                repository.publish(files, provenance, key);
                return null;
            });
        }
        List<BuildOutcome> published = new ArrayList<>();
        for (BuildOutcome o : outcomes) {
            if (o instanceof BuildOutcome.Built b) {
                BuildRecord.markPublished(b.result().record(), config.repository());
                published.add(new BuildOutcome.Built(b.result().withPublished()));
            } else {
                published.add(o);
            }
        }
        listener.stage("Finish: published " + built.size() + " package(s)");
        return new BuildRun(published, true, elapsed(started), "", 0);
    }

    private byte[] provenance(BuildResult r, List<Path> subjects, PinnedImage image, BuildRequest request) {
        Map<String, String> remote = new TreeMap<>();
        Path recordFile = r.record().resolve("record.json");
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> record = BuildRecord.JSON.readValue(recordFile.toFile(), LinkedHashMap.class);
            @SuppressWarnings("unchecked")
            Map<String, String> sources = (Map<String, String>) record.getOrDefault("sources", Map.of());
            remote.putAll(sources);
            Instant startedOn = Instant.parse((String) record.get("started"));
            Instant finishedOn = Instant.parse((String) record.get("finished"));
            return new Provenance(r.packageName(), request.rev(), r.commit(), r.dirty(), config.definitionsUri().orElseGet(() -> SourceMirror.provenanceUri(Optional.empty(), config.root())),
                    request.command(), new BuildKey(r.buildKey()), r.builder(), image.imageId(), image.toolchainDigest(),
                    remote, subjects, r.record().getFileName().toString(), startedOn, finishedOn, KilnVersion.get()).render();
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot write the provenance of " + r.nevra() + " from " + recordFile, e);
        }
    }

    private Path latestLog(String pkg) {
        Path dir = config.records().resolve(pkg);
        try (var records = Files.list(dir)) {
            return records.max(Path::compareTo).map(p -> p.resolve("build.log")).filter(Files::exists).orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /** Progress of one package among several: stages and notices prefixed, the log only in its record. */
    private BuildListener prefixed(String pkg) {
        return new BuildListener() {
            @Override
            public void stage(String name) {
                listener.stage(pkg + ": " + name);
            }

            @Override
            public void notice(String message) {
                listener.notice(pkg + ": " + message);
            }

            @Override
            public void log(String line) {
                // kept in the package's build record; interleaved logs of parallel builds help nobody
            }

            @Override
            public void publishFailed(String target) {
                listener.publishFailed(target);
            }
        };
    }

    private static Duration elapsed(long started) {
        return Duration.ofNanos(System.nanoTime() - started);
    }

    static String read(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
