package dev.kiln.repo;

import dev.kiln.config.TargetConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A repository read as a client reads it, to be replicated ({@code kiln repo sync --from}): a
 * directory target reads its folder, a WebDAV target reads over HTTP. Paths are relative to the
 * repository root ({@code repodata/repomd.xml}, {@code Packages/x.rpm}); {@code repodata/} means
 * the live metadata.
 */
public interface ReplicaSource extends AutoCloseable {

    TargetConfig config();

    /** A small file's bytes, or empty when there is none. */
    Optional<byte[]> read(String path);

    /** The names of the files in {@code folder} ({@code Packages}, {@code SRPMS}), without the temporary ones. */
    List<String> list(String folder);

    /**
     * Copies {@code path} into {@code file}, retried as the kind's reads are.
     *
     * @throws dev.kiln.KilnException ENVIRONMENT when it is missing or cannot be read, naming the site and the file
     */
    void download(String path, Path file);

    @Override
    default void close() {
    }
}
