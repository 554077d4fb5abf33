package dev.kiln.container;

import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.exception.DockerClientException;
import com.github.dockerjava.api.model.BuildResponseItem;
import com.github.dockerjava.api.model.Image;
import dev.kiln.KilnException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Builder images: built from {@code containers/<name>/}, pinned by {@code image.lock}, and checked
 * against that lock before every package build, so a build never runs in a toolchain nobody reviewed.
 */
public final class BuilderImage {

    /** Label naming the builder an image was built for. */
    public static final String LABEL_BUILDER = "dev.kiln.builder";
    /** Label holding the build-context digest an image was built from. */
    public static final String LABEL_CONTEXT = "dev.kiln.context";
    /** The suite bootstrapped for {@code FROM ${KILN_BASE}}. */
    public static final String BASE_SUITE = "bookworm";

    private static final ContainerLimits PROBE = new ContainerLimits(256L << 20, 64, Duration.ofMinutes(2));

    private BuilderImage() {
    }

    /** Builds the image of {@code context}, bootstrapping the base first if the engine lacks it. */
    public static PinnedImage build(DockerEngine engine, String name, Map<String, byte[]> context, Consumer<String> log) {
        return build(engine, new BuildContext(name, context), log);
    }

    static PinnedImage build(DockerEngine engine, BuildContext ctx, Consumer<String> log) {
        boolean usesBase = ctx.checkFromLines();
        List<ProvidedCapability> provides = ctx.provides();
        String contextDigest = ctx.digest();
        String base = null;
        if (usesBase) {
            base = BaseImage.find(engine, BASE_SUITE).orElseGet(() -> {
                log.accept("base image " + BaseImage.REPOSITORY + ":" + BASE_SUITE + " missing: bootstrapping it with debootstrap ...");
                return BaseImage.bootstrap(engine, BASE_SUITE, engine.stateDir().resolve("bootstrap"), log);
            });
        }
        String tag = "kiln/" + ctx.name() + ":" + contextDigest.substring("sha256:".length(), "sha256:".length() + 12);
        var cmd = engine.client().buildImageCmd(new ByteArrayInputStream(ContainerArchive.pack(ctx.files())))
                .withLabels(Map.of(LABEL_BUILDER, ctx.name(), LABEL_CONTEXT, contextDigest))
                .withTags(Set.of(tag))
                .withPull(false)
                .withRemove(true)
                .withForcerm(true);
        if (base != null) {
            cmd = cmd.withBuildArg(BuildContext.BASE_ARG, base);
        }
        String imageId;
        try {
            imageId = cmd.exec(new BuildImageResultCallback() {
                @Override
                public void onNext(BuildResponseItem item) {
                    if (item.getStream() != null) {
                        item.getStream().lines().forEach(log);
                    }
                    super.onNext(item);
                }
            }).awaitImageId();
        } catch (DockerClientException e) {
            throw KilnException.buildFailed("Building " + ctx.path("Dockerfile") + " failed: " + e.getMessage());
        }
        imageId = engine.client().inspectImageCmd(imageId).exec().getId();
        String toolchain = toolchainDigest(engine, imageId, contextDigest);
        log.accept("built " + tag + " = " + imageId + " (toolchain " + toolchain + ")");
        return new PinnedImage(ctx.name(), imageId, toolchain, contextDigest, base, provides);
    }

    /** Builds the image and writes its lock to {@code lockFile}: the {@code image build} command. */
    public static PinnedImage pin(DockerEngine engine, String name, Map<String, byte[]> context, Path lockFile, Consumer<String> log) {
        PinnedImage pinned = build(engine, name, context, log);
        try {
            Files.writeString(lockFile, ImageLock.of(pinned).render());
        } catch (IOException e) {
            throw KilnException.environment("Cannot write " + lockFile + ": " + e.getMessage());
        }
        log.accept("pinned " + name + " in " + lockFile + ": commit it");
        return pinned;
    }

    /**
     * The image a package build must use: the local image built from this context, accepted only if
     * it is the pinned image or has the pinned toolchain. Builds it when missing.
     */
    public static PinnedImage resolve(DockerEngine engine, String name, Map<String, byte[]> context,
                                      String lockFileText, Consumer<String> say) {
        return resolve(engine, name, context, lockFileText, say, true);
    }

    /**
     * As above; with {@code mayBuild} false a missing image is refused instead of built (a build
     * may bootstrap a base image on the host: the service never does that inside a request).
     */
    public static PinnedImage resolve(DockerEngine engine, String name, Map<String, byte[]> context,
                                      String lockFileText, Consumer<String> say, boolean mayBuild) {
        BuildContext ctx = new BuildContext(name, context);
        String lockPath = ctx.path(BuildContext.LOCK_FILE);
        if (lockFileText == null) {
            throw KilnException.badInput("builder " + name + " is not pinned: run ./kiln image build " + name);
        }
        ImageLock lock = ImageLock.parse(lockFileText, lockPath);
        String contextDigest = ctx.digest();
        if (!contextDigest.equals(lock.context())) {
            throw KilnException.badInput("builder " + name + " context is " + contextDigest + ", but " + lockPath
                    + " pins context " + lock.context() + " (the Dockerfile or its files changed): to re-pin run ./kiln image build "
                    + name + " and commit image.lock");
        }
        Optional<String> local = findLocal(engine, name, contextDigest);
        String imageId;
        String toolchain;
        String base = lock.base();
        if (local.isPresent()) {
            imageId = local.get();
            toolchain = imageId.equals(lock.image()) ? lock.toolchain() : toolchainDigest(engine, imageId, contextDigest);
        } else if (!mayBuild) {
            throw KilnException.environment("builder image " + name + " (context " + contextDigest.substring(0, 19)
                    + "...) is not on the service's engine: run ./kiln serve --setup on the service's machine, which builds"
                    + " the builders of its HEAD, or ./kiln image build " + name + " there");
        } else {
            say.accept("builder image " + name + " missing: building it ...");
            PinnedImage built = build(engine, ctx, say);
            imageId = built.imageId();
            toolchain = built.toolchainDigest();
            base = built.baseImage();
        }
        if (!imageId.equals(lock.image()) && !toolchain.equals(lock.toolchain())) {
            throw KilnException.badInput("builder image " + name + " is " + imageId + ", but " + lockPath + " pins "
                    + lock.image() + " (toolchain " + toolchain + " vs " + lock.toolchain() + "): to re-pin run ./kiln image build "
                    + name + " and commit image.lock");
        }
        return new PinnedImage(name, imageId, toolchain, contextDigest, base, ctx.provides());
    }

    /** Builder images the engine holds, newest first; {@code containersDir} holds the committed locks. */
    public static List<BuilderImageEntry> list(DockerEngine engine, Path containersDir) {
        List<BuilderImageEntry> out = new ArrayList<>();
        for (Image image : engine.client().listImagesCmd().withLabelFilter(LABEL_BUILDER).exec()) {
            Map<String, String> labels = image.getLabels() == null ? Map.of() : image.getLabels();
            String name = labels.get(LABEL_BUILDER);
            String context = labels.get(LABEL_CONTEXT);
            out.add(new BuilderImageEntry(name, image.getId(), Instant.ofEpochSecond(image.getCreated()), context,
                    matchesLock(engine, containersDir.resolve(name).resolve(BuildContext.LOCK_FILE), image.getId(), context)));
        }
        out.sort(Comparator.comparing(BuilderImageEntry::created).reversed());
        return out;
    }

    private static boolean matchesLock(DockerEngine engine, Path lockFile, String imageId, String context) {
        if (!Files.isRegularFile(lockFile)) {
            return false;
        }
        try {
            ImageLock lock = ImageLock.parse(Files.readString(lockFile), lockFile.toString());
            // A listing never runs containers: a rebuild counts as pinned only if its toolchain is already known.
            return lock.context().equals(context)
                    && (lock.image().equals(imageId) || cachedToolchain(engine, imageId).map(lock.toolchain()::equals).orElse(false));
        } catch (IOException | KilnException e) {
            return false;
        }
    }

    private static Optional<String> findLocal(DockerEngine engine, String name, String contextDigest) {
        // Images derived from a builder (DependencyImage) inherit its labels; they are never builders.
        return engine.client().listImagesCmd()
                .withLabelFilter(Map.of(LABEL_BUILDER, name, LABEL_CONTEXT, contextDigest))
                .exec().stream()
                .filter(i -> i.getLabels() == null || !i.getLabels().containsKey(DependencyImage.LABEL))
                .max(Comparator.comparingLong(Image::getCreated))
                .map(Image::getId);
    }

    /**
     * sha256 over the sorted {@code Package=Version} list installed in the image, plus the context
     * digest. Computed once per image id and kept under the engine's state folder.
     */
    static String toolchainDigest(DockerEngine engine, String imageId, String contextDigest) {
        Optional<String> cached = cachedToolchain(engine, imageId);
        if (cached.isPresent()) {
            return cached.get();
        }
        List<String> packages = new ArrayList<>();
        int rc;
        try (BuildContainer probe = BuildContainer.create(engine, imageId, PROBE,
                List.of("dpkg-query", "-W", "-f", "${Package}=${Version}\\n"), Map.of())) {
            rc = probe.run(packages::add);
        }
        if (rc != 0 || packages.isEmpty()) {
            throw KilnException.buildFailed("Listing the packages of image " + imageId + " with dpkg-query failed (exit " + rc
                    + "): a builder image must be Debian-based: " + String.join(" / ", packages));
        }
        packages.sort(null);
        var sha = BuildContext.sha256();
        for (String p : packages) {
            sha.update((p + "\n").getBytes(StandardCharsets.UTF_8));
        }
        sha.update(("context " + contextDigest + "\n").getBytes(StandardCharsets.UTF_8));
        String digest = "sha256:" + HexFormat.of().formatHex(sha.digest());
        try {
            Path file = cacheFile(engine, imageId);
            Files.createDirectories(file.getParent());
            Files.writeString(file, digest + "\n");
        } catch (IOException e) {
            // Only a cache: the next resolve computes it again.
        }
        return digest;
    }

    private static Optional<String> cachedToolchain(DockerEngine engine, String imageId) {
        try {
            Path file = cacheFile(engine, imageId);
            return Files.isRegularFile(file) ? Optional.of(Files.readString(file).trim()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Path cacheFile(DockerEngine engine, String imageId) {
        // Image ids are content digests, so a cached answer never goes stale.
        return engine.stateDir().resolve("toolchain").resolve(imageId.replace(':', '-'));
    }
}
