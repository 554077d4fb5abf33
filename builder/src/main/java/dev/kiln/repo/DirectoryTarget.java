package dev.kiln.repo;

import dev.kiln.config.TargetConfig;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.SigningKey;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A folder on this machine ({@link DirectoryRepository}), served by any web server or {@code kiln repo serve}. */
public final class DirectoryTarget implements PublishTarget {

    private final TargetConfig config;
    private final DirectoryRepository repository;

    public DirectoryTarget(TargetConfig config) {
        this.config = config;
        this.repository = new DirectoryRepository(config.path().orElseThrow(), config.metadataGrace(), config.lockTimeout());
    }

    @Override
    public TargetConfig config() {
        return config;
    }

    /** The folder's repository, for what only a local folder offers (its packages' headers, build keys). */
    public DirectoryRepository repository() {
        return repository;
    }

    @Override
    public URI baseUrl() {
        return repository.location().toUri();
    }

    @Override
    public void check() {
        repository.checkWritable();
    }

    @Override
    public Publication publish(List<Path> rpms, Map<Path, byte[]> provenance, SigningKey key) {
        return repository.publish(rpms, provenance, key).withTarget(config.name());
    }

    @Override
    public Pruning prune(int keep, Pruning.Mode mode, SigningKey key) {
        return repository.prune(keep, mode, key).withTarget(config.name());
    }

    @Override
    public Verification verify(SigningKey key) {
        DirectoryRepository.Live live = repository.live();
        if (live == null) {
            return new Verification(config.name(), 0, 0, List.of());
        }
        // Every path against the metadata folder live at the start, so a publish meanwhile cannot mix two sets.
        Path root = live.root();
        String metadata = "repodata/";
        try {
            return Verification.check(config.name(), path -> {
                Path file = (path.startsWith(metadata) ? live.metadata().resolve(path.substring(metadata.length())) : root.resolve(path))
                        .normalize();
                return file.startsWith(root) && java.nio.file.Files.isRegularFile(file) ? java.util.Optional.of(file)
                        : java.util.Optional.empty();
            }, key);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public List<Nevra> list() {
        return repository.list();
    }

    @Override
    public void close() {
        repository.close();
    }
}
