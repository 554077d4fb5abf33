package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.container.BuildContainer;
import dev.kiln.container.ContainerLimits;
import dev.kiln.container.DependencyImage;
import dev.kiln.container.DockerEngine;
import dev.kiln.container.PinnedImage;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.source.SourceCache;
import dev.kiln.source.SourceFetcher;
import dev.kiln.source.SourcesFile;
import dev.kiln.specfile.EvaluatedSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * One package's build, as mock runs one: sources, rpmbuild in a throw-away container from the
 * pinned image (with internal build dependencies installed), signing on the host, and a build
 * record of it all.
 */
final class PackageBuild {

    private static final Executor VIRTUAL = Executors.newVirtualThreadPerTaskExecutor();

    private final KilnConfig config;
    private final DockerEngine engine;
    private final PinnedImage image;
    private final SigningKey key;
    private final String builderDist;

    /** {@code builderDist} is the builder's own {@code %dist} ("" when it has none). */
    PackageBuild(KilnConfig config, DockerEngine engine, PinnedImage image, SigningKey key, String builderDist) {
        this.config = config;
        this.engine = engine;
        this.image = image;
        this.key = key;
        this.builderDist = builderDist;
    }

    /** Remote sources from the cache, fetched and verified first where missing. */
    static Map<String, Path> sources(KilnConfig config, PackageInputs in, BuildListener logged) {
        SourceCache cache = new SourceCache(config.cache(), new SourceFetcher(config.sourcesFolder()));
        Map<String, Path> files = new LinkedHashMap<>();
        for (EvaluatedSpec.SourceTag source : in.remoteSources()) {
            SourcesFile.Entry entry = in.sources().find(source.fileName()).orElseThrow();
            Path cached = cache.obtain(entry, SourceFetcher.location(source.value()), in.sourcesPath(), logged::notice);
            logged.notice(source.fileName() + " sha512:" + entry.sha512().substring(0, 16) + "... verified");
            files.put(source.fileName(), cached);
        }
        return files;
    }

    /**
     * Builds {@code in}; {@code dependencies} are the RPMs (file name -> file) of internal build
     * dependencies to install into the build image, {@code buildKey} identifies the inputs.
     */
    BuildResult build(PackageInputs in, Map<String, Path> dependencies, String buildKey, String dist, BuildListener listener) {
        long started = System.nanoTime();
        EvaluatedSpec spec = in.spec();
        try (BuildRecord record = BuildRecord.create(config.records(), in)) {
            BuildListener logged = record.tee(listener);
            record.buildKey(buildKey);
            logged.stage("Start: sources for " + in.packageName());
            Map<String, Path> remote = sources(config, in, logged);
            record.sources(remote);
            record.image(image);
            if (!dependencies.isEmpty()) {
                logged.stage("Start: install build dependencies " + dependencies.keySet());
            }
            List<Path> outputs;
            try (DependencyImage.Handle buildImage = DependencyImage.prepare(engine, image.imageId(), dependencies, limits(), logged::log)) {
                String release = dist == null ? spec.release() : RebuildSuffix.release(spec.release(), builderDist, dist);
                if (dist != null) {
                    logged.notice(spec.nevr() + " is published already: rebuilding it as release " + release + " (%dist " + dist + ")");
                }
                logged.stage("Start: rpmbuild " + spec.name() + "-" + spec.version() + "-" + release);
                outputs = runRpmbuild(buildImage.imageId(), in, remote, dist, record.folder().resolve("rpms"), record, logged);
            }
            logged.stage("Start: check the output against " + in.specPath());
            DeclaredOutputs.check(spec, outputs);

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
                if (info.source()) {
                    sourceRpm = info.path();
                } else {
                    binaries.add(info.path());
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
                    image.imageId(), in.snapshot().commit(), in.snapshot().dirty(), duration, record.folder(), false, buildKey);
        }
    }

    private List<Path> runRpmbuild(String imageId, PackageInputs in, Map<String, Path> remote, String dist, Path outDir,
            BuildRecord record, BuildListener logged) {
        List<String> command = List.of("sh", RpmbuildInput.HOME + "/kiln-build.sh");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SOURCE_DATE_EPOCH", Long.toString(in.sourceDateEpoch()));
        env.put("HOME", RpmbuildInput.HOME);
        if (dist != null) {
            env.put("KILN_DIST", dist);
        }
        BuildContainer.Exchange files = BuildContainer.Exchange.into(RpmbuildInput.HOME).andBack(RpmbuildInput.HOME + "/out");
        try (BuildContainer container = BuildContainer.create(engine, imageId, limits(), command, env, files)) {
            BuildContainer.Result result = container.run(RpmbuildInput.files(in, remote), logged::log, outDir);
            if (result.exitCode() != 0) {
                throw RpmbuildFailure.explain(in, record.log(), result.exitCode());
            }
            return result.files();
        }
    }

    private ContainerLimits limits() {
        return limits(config);
    }

    /** The build's limits, for every container that runs code of a package, its spec or its dependencies. */
    static ContainerLimits limits(KilnConfig config) {
        return new ContainerLimits(config.build().memoryBytes(), config.build().pids(), config.build().timeout());
    }

    /** Waits for {@code future}, rethrowing what it failed with as it was thrown. */
    static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }
}
