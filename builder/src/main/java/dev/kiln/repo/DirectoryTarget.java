package dev.kiln.repo;

import dev.kiln.config.TargetConfig;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.SigningKey;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A folder on this machine ({@link DirectoryRepository}), served by any web server or {@code kiln repo serve}. */
public final class DirectoryTarget implements PublishTarget, Replica, ReplicaSource {

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
    public <T> T underLock(java.util.function.Function<Replica.Session, T> work) {
        return repository.replicate(work);
    }

    /** As a source, {@code repodata/} is the live metadata folder of the moment of each read. */
    @Override
    public java.util.Optional<byte[]> read(String path) {
        Path file = file(path);
        try {
            return file != null && java.nio.file.Files.isRegularFile(file) ? java.util.Optional.of(java.nio.file.Files.readAllBytes(file))
                    : java.util.Optional.empty();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + file, e);
        }
    }

    @Override
    public List<String> list(String folder) {
        DirectoryRepository.Live live = repository.live();
        if (live == null || !java.nio.file.Files.isDirectory(live.root().resolve(folder))) {
            return List.of();
        }
        try (var files = java.nio.file.Files.list(live.root().resolve(folder))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void download(String path, Path file) {
        Path from = file(path);
        if (from == null || !java.nio.file.Files.isRegularFile(from)) {
            throw dev.kiln.KilnException.environment("source " + config.name() + " (" + config.describe() + ") has no " + path
                    + " although its metadata names it: run ./kiln repo verify --target " + config.name());
        }
        try {
            java.nio.file.Files.copy(from, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + from, e);
        }
    }

    private Path file(String path) {
        DirectoryRepository.Live live = repository.live();
        if (live == null || path.contains("..")) {
            return null;
        }
        return path.startsWith(DirectoryRepository.REPODATA + "/")
                ? live.metadata().resolve(path.substring(DirectoryRepository.REPODATA.length() + 1)) : live.root().resolve(path);
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
