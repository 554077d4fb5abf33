package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.container.BuilderImage;
import dev.kiln.container.DockerEngine;
import dev.kiln.container.ImageLock;
import dev.kiln.container.PinnedImage;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * One run's builder: its committed files and lock, and, only when a run needs them, the engine
 * connection and the pinned image. A run that finds everything in its caches never connects:
 * the lock alone names the toolchain that cache keys depend on. Closing closes the engine.
 */
final class BuilderSession implements AutoCloseable {

    private static final Executor VIRTUAL = Executors.newVirtualThreadPerTaskExecutor();

    /** The builder's own macro file, loaded by every rpm call Kiln makes in the builder. */
    static final String MACROS_FILE = "macros";

    private final KilnConfig config;
    private final String builder;
    private final Map<String, byte[]> context;
    private final String lock;
    private final ImageLock pinned;
    private final BuildListener listener;
    private CompletableFuture<DockerEngine> engine;
    private final boolean mayBuildImage;
    /** Whether this session made the connection (and closes it), or a long-lived process lent it. */
    private final boolean ownsEngine;
    private PinnedImage image;

    /**
     * @param lent the engine connection a long-lived process holds; empty: this session connects and
     *     closes its own (a lent one is a {@link DockerEngine#labelled} view, whose close keeps the connection)
     */
    BuilderSession(KilnConfig config, String builder, Map<String, byte[]> builderFiles, BuildListener listener,
            java.util.Optional<DockerEngine> lent) {
        this(config, builder, builderFiles, listener, lent, lent.isEmpty());
    }

    /** @param mayBuildImage whether a missing builder image is built (the CLI) or refused (a request to the service) */
    BuilderSession(KilnConfig config, String builder, Map<String, byte[]> builderFiles, BuildListener listener,
            java.util.Optional<DockerEngine> lent, boolean mayBuildImage) {
        this.mayBuildImage = mayBuildImage;
        this.ownsEngine = lent.isEmpty();
        lent.ifPresent(e -> this.engine = CompletableFuture.completedFuture(e));
        this.config = config;
        this.builder = builder;
        this.listener = listener;
        Map<String, byte[]> files = new java.util.LinkedHashMap<>(builderFiles);
        byte[] lockBytes = files.remove(PackageInputs.LOCK_FILE);
        if (lockBytes == null) {
            throw KilnException.badInput("builder " + builder + " is not pinned: run ./kiln image build " + builder);
        }
        this.context = Map.copyOf(files);
        this.lock = BuildService.read(lockBytes);
        this.pinned = ImageLock.parse(lock, "containers/" + builder + "/" + PackageInputs.LOCK_FILE);
    }

    String builder() {
        return builder;
    }

    /** The toolchain digest the lock pins: what the image's rpm is, without asking the engine. */
    String toolchain() {
        return pinned.toolchain();
    }

    /** {@code containers/<builder>/macros}, or null when the builder has none. */
    byte[] macros() {
        return context.get(MACROS_FILE);
    }

    /** Starts connecting to the engine in the background, so other work (loading the key) overlaps it. */
    synchronized void connectSoon() {
        if (engine == null) {
            engine = CompletableFuture.supplyAsync(() -> DockerEngine.connect(config.state(), listener::notice), VIRTUAL);
        }
    }

    synchronized DockerEngine engine() {
        connectSoon();
        return PackageBuild.join(engine);
    }

    /** The image the lock pins, built when the engine lacks it; resolved once per run. */
    synchronized PinnedImage image() {
        if (image == null) {
            DockerEngine e = engine();
            listener.stage("Start: builder image " + builder);
            image = BuilderImage.resolve(e, builder, context, lock, listener::notice, mayBuildImage);
        }
        return image;
    }

    @Override
    public synchronized void close() {
        if (engine != null && ownsEngine) {
            if (engine.isDone()) {
                if (!engine.isCompletedExceptionally()) {
                    engine.join().close();
                }
            } else {
                // still connecting (the run failed before it needed the engine): closed once connected
                engine.thenAccept(DockerEngine::close);
            }
        }
    }
}
