package dev.kiln.container;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One real engine, base image and pinned rpm-builder shared by every integration test in the JVM:
 * the base is bootstrapped only if {@code kiln/base:bookworm} is missing, the builder only if no
 * image with its context label exists.
 */
final class TestEngine {

    static final Path PROJECT_ROOT = Path.of(System.getenv().getOrDefault("KILN_PROJECT_ROOT", "..")).toAbsolutePath().normalize();
    static final Path STATE = PROJECT_ROOT.resolve("builder/target/kiln-state");

    private static DockerEngine engine;
    private static PinnedImage rpmBuilder;
    private static Path rpmBuilderLock;
    static long bootstrapMillis = -1;
    static long builderBuildMillis = -1;

    private TestEngine() {
    }

    static synchronized DockerEngine engine() {
        if (engine == null) {
            engine = DockerEngine.connect(STATE, line -> System.out.println("[engine] " + line));
            Runtime.getRuntime().addShutdownHook(new Thread(engine::close));
        }
        return engine;
    }

    private static RuntimeException setupFailure;

    static synchronized String base() {
        // A failed bootstrap is not retried by every test: each would spend half a minute failing again.
        if (setupFailure != null) {
            throw setupFailure;
        }
        try {
            return makeBase();
        } catch (RuntimeException ex) {
            setupFailure = ex;
            throw ex;
        }
    }

    private static String makeBase() {
        DockerEngine e = engine();
        return BaseImage.find(e, BuilderImage.BASE_SUITE).orElseGet(() -> {
            long t0 = System.nanoTime();
            String id = BaseImage.bootstrap(e, BuilderImage.BASE_SUITE, STATE.resolve("bootstrap"), line -> System.out.println("[bootstrap] " + line));
            bootstrapMillis = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("FIGURE bootstrap+import ms: " + bootstrapMillis);
            return id;
        });
    }

    static Map<String, byte[]> rpmBuilderContext() {
        return BuildContext.read(PROJECT_ROOT.resolve("containers/rpm-builder")).files();
    }

    /** The rpm-builder, built and pinned into a temporary lock file once per run. */
    static synchronized PinnedImage rpmBuilder() {
        if (setupFailure != null) {
            throw setupFailure;
        }
        if (rpmBuilder == null) {
            base();
            try {
                rpmBuilderLock = Files.createTempDirectory("kiln-lock").resolve("image.lock");
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
            long t0 = System.nanoTime();
            try {
                rpmBuilder = BuilderImage.pin(engine(), "rpm-builder", rpmBuilderContext(), rpmBuilderLock, line -> System.out.println("[build] " + line));
            } catch (RuntimeException ex) {
                setupFailure = ex;
                throw ex;
            }
            builderBuildMillis = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("FIGURE rpm-builder build+pin ms (cached layers if any): " + builderBuildMillis);
        }
        return rpmBuilder;
    }

    static synchronized Path rpmBuilderLock() {
        rpmBuilder();
        return rpmBuilderLock;
    }

    /**
     * Marks the containers this test run creates. The engine may be shared (other builds run on it
     * at the same time), so "no build container left" is checked for ours, not for everybody's.
     */
    static final String RUN_MARK = "KILN_TEST_RUN=" + java.util.UUID.randomUUID();

    static Map<String, String> env(Map<String, String> env) {
        Map<String, String> all = new java.util.HashMap<>(env);
        String[] kv = RUN_MARK.split("=", 2);
        all.put(kv[0], kv[1]);
        return all;
    }

    /** Build containers of this run the engine still has: must be none after every test. */
    static List<String> leftoverBuildContainers() {
        var client = engine().client();
        return client.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec().stream()
                .map(c -> c.getId())
                .filter(id -> {
                    try {
                        String[] env = client.inspectContainerCmd(id).exec().getConfig().getEnv();
                        return env != null && List.of(env).contains(RUN_MARK);
                    } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
                        return false;
                    }
                })
                .toList();
    }
}
