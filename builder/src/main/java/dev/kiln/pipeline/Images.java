package dev.kiln.pipeline;

import dev.kiln.config.KilnConfig;
import dev.kiln.container.BaseImage;
import dev.kiln.container.BuilderImage;
import dev.kiln.container.BuilderImageEntry;
import dev.kiln.container.DockerEngine;
import dev.kiln.container.PinnedImage;
import dev.kiln.git.DefinitionRepository;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Base and builder images: {@code image bootstrap}, {@code image build}, {@code image list}. */
public final class Images {

    /** The Debian suite Kiln's own base image is made from. */
    public static final String SUITE = "bookworm";

    private final KilnConfig config;
    private final Consumer<String> say;
    private final Consumer<String> log;

    public Images(KilnConfig config, Consumer<String> say, Consumer<String> log) {
        this.config = config;
        this.say = say;
        this.log = log;
    }

    public String bootstrap() {
        try (DockerEngine engine = DockerEngine.connect(config.state(), say)) {
            say.accept("Start: image bootstrap (debootstrap " + SUITE + ")");
            return BaseImage.bootstrap(engine, SUITE, config.state().resolve("tmp"), log);
        }
    }

    /** Builds containers/&lt;name&gt;/ from the working tree and writes its image.lock. */
    public PinnedImage buildAndPin(String name) {
        Map<String, byte[]> context;
        try (DefinitionRepository git = DefinitionRepository.open(config.root())) {
            context = PackageInputs.builderFiles(git, git.snapshot(null, List.of()), name);
        }
        context.remove(PackageInputs.LOCK_FILE);
        try (DockerEngine engine = DockerEngine.connect(config.state(), say)) {
            say.accept("Start: image build " + name);
            return BuilderImage.pin(engine, name, context,
                    config.root().resolve("containers").resolve(name).resolve(PackageInputs.LOCK_FILE), log);
        }
    }

    public List<String> list() {
        try (DockerEngine engine = DockerEngine.connect(config.state(), say)) {
            List<BuilderImageEntry> entries = BuilderImage.list(engine, config.root().resolve("containers"));
            if (entries.isEmpty()) {
                return List.of("No builder images on this engine: ./kiln image build <builder> makes one");
            }
            return entries.stream().map(e -> String.format("%-16s %s  %s  %s", e.name(), e.imageId(), e.created(),
                    e.pinned() ? "pinned" : "not the pinned image")).toList();
        }
    }
}
