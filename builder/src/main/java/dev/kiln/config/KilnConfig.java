package dev.kiln.config;

import dev.kiln.KilnException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Everything Kiln reads from {@code kiln.yaml}, environment and options, resolved once per run.
 * Relative paths are already resolved against the project root. {@code sourcesFolder} is the one
 * folder {@code file:} sources may be read from (a real path), empty when {@code file:} is refused.
 * {@code definitionsUri} is where the definitions below {@code root} come from, as provenance names
 * it (the service's packaging repository); empty: the {@code root} folder itself.
 */
public record KilnConfig(
        Path root,
        Path state,
        String builder,
        Path repository,
        Path cache,
        SigningConfig signing,
        BuildLimits build,
        int servePort,
        Optional<Path> sourcesFolder,
        List<TargetConfig> targets,
        ServiceConfig service,
        Optional<String> definitionsUri) {

    public KilnConfig {
        targets = List.copyOf(targets);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("a project has at least one target");
        }
    }

    /**
     * The target {@code name} names, or the first one (the default) when empty.
     *
     * @throws KilnException BAD_INPUT for a name kiln.yaml does not list
     */
    public TargetConfig target(Optional<String> name) {
        if (name.isEmpty() || name.get().isBlank()) {
            return targets.getFirst();
        }
        return targets.stream().filter(t -> t.name().equals(name.get())).findFirst()
                .orElseThrow(() -> KilnException.badInput("--target '" + name.get() + "' is not a target of kiln.yaml: known are "
                        + targets.stream().map(TargetConfig::name).toList()));
    }

    /** The same settings, reading the definitions (specs/, patches/, containers/) from {@code definitions}. */
    public KilnConfig withRoot(Path definitions) {
        return new KilnConfig(definitions, state, builder, repository, cache, signing, build, servePort, sourcesFolder, targets, service,
                Optional.empty());
    }

    /** As {@link #withRoot}, the definitions being a copy of those at {@code uri} (for provenance). */
    public KilnConfig withDefinitions(Path definitions, String uri) {
        return new KilnConfig(definitions, state, builder, repository, cache, signing, build, servePort, sourcesFolder, targets, service,
                Optional.of(uri));
    }

    /** Where build records go: one folder per build. */
    public Path records() {
        return state.resolve("builds");
    }
}
