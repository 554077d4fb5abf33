package dev.kiln.build;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.container.BuildContainer;
import dev.kiln.container.BuilderImage;
import dev.kiln.container.ContainerLimits;
import dev.kiln.container.DockerEngine;
import dev.kiln.container.PinnedImage;
import dev.kiln.git.DefinitionRepository;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.source.SourceCache;
import dev.kiln.source.SourceFetcher;
import dev.kiln.source.SourcesFile;
import dev.kiln.spec.Capabilities;
import dev.kiln.spec.SpecFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * The build pipeline, one package at a time: read the definitions from Git, obtain and verify
 * sources, check BuildRequires against the pinned builder, run rpmbuild in a throw-away
 * container, sign the outputs on the host, and publish them all at once when every package built.
 */
public final class BuildService {

    private static final Executor VIRTUAL = Executors.newVirtualThreadPerTaskExecutor();

    private final KilnConfig config;
    private final BuildListener listener;

    public BuildService(KilnConfig config, BuildListener listener) {
        this.config = config;
        this.listener = listener;
    }

    public List<BuildResult> build(BuildRequest request) {
        if (request.packages().isEmpty()) {
            throw KilnException.badInput("build: name at least one package (see specs/)");
        }
        try (DefinitionRepository git = DefinitionRepository.open(config.root())) {
            // Check every package's definitions before anything starts, so bad input changes nothing.
            List<PackageInputs> inputs = new ArrayList<>();
            for (String pkg : request.packages()) {
                listener.stage("Start: read definitions of " + pkg);
                inputs.add(PackageInputs.read(git, pkg, config.builder(), request.rev()));
            }
            if (request.publish()) {
                new DirectoryRepository(config.repository()).checkWritable();
            }
            // The engine answers while the key is read: both are needed, neither needs the other.
            CompletableFuture<DockerEngine> connecting = CompletableFuture.supplyAsync(
                    () -> DockerEngine.connect(config.state(), listener::notice), VIRTUAL);
            SigningKey key;
            try {
                key = Keys.loadOrCreate(config.signing(), config.state(), listener);
            } catch (RuntimeException e) {
                connecting.thenAccept(DockerEngine::close);
                throw e;
            }
            try (DockerEngine engine = join(connecting)) {
                List<BuildResult> results = new ArrayList<>();
                List<Path> toPublish = new ArrayList<>();
                for (PackageInputs in : inputs) {
                    BuildResult result = buildOne(engine, in, key);
                    results.add(result);
                    toPublish.addAll(result.rpms());
                    toPublish.add(result.sourceRpm());
                }
                if (!request.publish()) {
                    return results;
                }
                DirectoryRepository repository = new DirectoryRepository(config.repository());
                for (BuildResult r : results) {
                    GuardStage.check(repository, r, request.acceptChanges(), listener);
                }
                listener.stage("Start: publish to " + config.repository());
                repository.publish(toPublish, key);
                List<BuildResult> published = new ArrayList<>();
                for (BuildResult r : results) {
                    BuildRecord.markPublished(r.record(), config.repository());
                    published.add(new BuildResult(r.packageName(), r.nevra(), r.rpms(), r.sourceRpm(), r.keyId(),
                            r.builder(), r.imageId(), r.commit(), r.dirty(), r.duration(), r.record(), true));
                }
                listener.stage("Finish: published " + published.size() + " package(s)");
                return published;
            }
        }
    }

    private BuildResult buildOne(DockerEngine engine, PackageInputs in, SigningKey key) {
        long started = System.nanoTime();
        SpecFile spec = in.spec();
        try (BuildRecord record = BuildRecord.create(config.records(), in)) {
            BuildListener logged = record.tee(listener);
            logged.stage("Start: sources for " + in.packageName());
            Map<String, Path> remote = obtainSources(in, logged);
            record.sources(remote);

            logged.stage("Start: builder image " + in.builder());
            PinnedImage image = BuilderImage.resolve(engine, in.builder(), in.builderContext(), in.builderLock(),
                    logged::notice);
            record.image(image);
            List<SpecFile.Requirement> missing = Capabilities.of(image.provides().stream()
                    .collect(java.util.stream.Collectors.toMap(c -> c.name(), c -> c.version() == null ? "" : c.version(), (a, b) -> a)))
                    .unsatisfied(spec.buildRequires());
            if (!missing.isEmpty()) {
                SpecFile.Requirement first = missing.get(0);
                throw KilnException.badInput(in.specPath() + ":" + first.line() + ": BuildRequires " + missing
                        + " not provided by builder image " + in.builder() + " (" + image.imageId()
                        + "): add it to containers/" + in.builder() + "/Dockerfile and provides, then ./kiln image build "
                        + in.builder());
            }

            logged.stage("Start: rpmbuild " + spec.name() + "-" + spec.version() + "-" + spec.release());
            Path outDir = record.folder().resolve("rpms");
            List<Path> outputs = runRpmbuild(engine, image, in, remote, outDir, record, logged);

            logged.stage("Start: sign with key " + key.keyId());
            RpmSigner signer = new RpmSigner(key);
            List<CompletableFuture<RpmFile>> signing = outputs.stream()
                    .map(rpm -> CompletableFuture.supplyAsync(() -> {
                        signer.sign(rpm);
                        return RpmFile.read(rpm);
                    }, VIRTUAL)).toList();
            List<Path> binaries = new ArrayList<>();
            Path sourceRpm = null;
            String nevra = null;
            for (CompletableFuture<RpmFile> signed : signing) {
                RpmFile info = join(signed);
                Path rpm = info.path();
                if (info.source()) {
                    sourceRpm = rpm;
                } else {
                    binaries.add(rpm);
                    if (nevra == null || info.nevra().name().equals(spec.name())) {
                        nevra = info.nevra().toString();
                    }
                }
            }
            if (sourceRpm == null || binaries.isEmpty()) {
                throw KilnException.buildFailed("rpmbuild of " + in.packageName() + " produced no "
                        + (sourceRpm == null ? "source RPM" : "binary RPM") + "; see " + record.log());
            }
            Duration duration = Duration.ofNanos(System.nanoTime() - started);
            record.outputs(outputs, key.keyId(), duration);
            logged.stage("Finish: " + nevra + " in " + String.format("%.1f s", duration.toMillis() / 1000.0));
            return new BuildResult(in.packageName(), nevra, List.copyOf(binaries), sourceRpm, key.keyId(), in.builder(),
                    image.imageId(), in.snapshot().commit(), in.snapshot().dirty(), duration, record.folder(), false);
        }
    }

    private Map<String, Path> obtainSources(PackageInputs in, BuildListener logged) {
        SourceCache cache = new SourceCache(config.cache(), new SourceFetcher());
        Map<String, Path> files = new LinkedHashMap<>();
        for (SpecFile.SourceTag source : in.remoteSources()) {
            SourcesFile.Entry entry = in.sources().find(source.fileName()).orElseThrow();
            Path cached = cache.obtain(entry, SourceFetcher.location(source.value()), in.sourcesPath(), logged::notice);
            logged.notice(source.fileName() + " sha512:" + entry.sha512().substring(0, 16) + "... verified");
            files.put(source.fileName(), cached);
        }
        return files;
    }

    private List<Path> runRpmbuild(DockerEngine engine, PinnedImage image, PackageInputs in, Map<String, Path> remote,
            Path outDir, BuildRecord record, BuildListener logged) {
        byte[] tar = RpmbuildInput.tar(in, remote);
        List<String> command = List.of("sh", RpmbuildInput.HOME + "/kiln-build.sh");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SOURCE_DATE_EPOCH", Long.toString(in.sourceDateEpoch()));
        env.put("HOME", RpmbuildInput.HOME);
        ContainerLimits limits = new ContainerLimits(config.build().memoryBytes(), config.build().pids(),
                config.build().timeout());
        try (BuildContainer container = BuildContainer.create(engine, image.imageId(), limits, command, env)) {
            container.copyIn(tar, RpmbuildInput.HOME);
            int exit = container.run(logged::log);
            if (exit != 0) {
                throw RpmbuildFailure.explain(in, record.log(), exit);
            }
            return container.copyOut(RpmbuildInput.HOME + "/out", outDir);
        }
    }

    /** Waits for {@code future}, rethrowing what it failed with as it was thrown. */
    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    static String read(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
