package dev.kiln.repo;

import dev.kiln.config.TargetConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A repository that {@code kiln repo sync} makes match another one, one class per kind
 * ({@link DirectoryTarget}, {@link dev.kiln.repo.http.WebDavTarget}), made by {@link Targets#replica}.
 * What to copy is decided by {@link Replication}; a replica only says what it serves and places
 * files the way its publishes do, holding the lock its publishes take.
 */
public interface Replica extends AutoCloseable {

    TargetConfig config();

    /**
     * Runs {@code work} holding the lock a publish to this repository takes, with what it serves
     * as of then.
     */
    <T> T underLock(java.util.function.Function<Session, T> work);

    @Override
    default void close() {
    }

    /** One locked visit to a replica. */
    interface Session {

        /** The live {@code repomd.xml}, empty before the first publish. */
        Optional<byte[]> repomd();

        /** The live {@code repomd.xml.asc}, empty when there is none. */
        Optional<byte[]> signature();

        /** The packages the live metadata lists: href to sha256. */
        Map<String, String> listed();

        /** The files under {@code Packages/} and {@code SRPMS/}, as paths relative to the root. */
        Set<String> files();

        /** The names of the files in the live metadata folder. */
        Set<String> metadataFiles();

        /** Says, before the first {@link #place}, every path this visit will place (a journal for what a kill leaves). */
        void placing(List<String> paths);

        /**
         * Places {@code file} at {@code path} ({@code Packages/...} or {@code SRPMS/...}) whole: written
         * under a temporary name and renamed, so no reader sees part of it. Called from several threads.
         */
        void place(String path, Path file, Bandwidth bandwidth);

        /**
         * Makes {@code repomd} live with its {@code signature} and {@code publicKey}, as a publish does:
         * a new metadata folder holding {@code documents} (file name to the local copy; names in
         * {@link #metadataFiles()} are taken from the live folder instead of copied), the replaced
         * documents still within their grace, then the one step clients see.
         */
        void swapInMetadata(byte[] repomd, byte[] signature, byte[] publicKey, Map<String, Path> documents, Bandwidth bandwidth);
    }
}
