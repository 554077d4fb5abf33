package dev.kiln.source;

import dev.kiln.KilnException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * Upstream sources stored by their SHA-512 under {@code <cache>/sha512/<hex>}. A cached source
 * is never fetched again; a fetched one is verified before it enters the cache, so the cache
 * only ever holds content that matched a {@code sources} entry.
 */
public final class SourceCache {

    private final Path root;
    private final SourceFetcher fetcher;

    public SourceCache(Path root, SourceFetcher fetcher) {
        this.root = root;
        this.fetcher = fetcher;
    }

    /** Where the source with this checksum lives in the cache (it may not exist yet). */
    public Path pathOf(String sha512) {
        return root.resolve("sha512").resolve(sha512);
    }

    /**
     * Returns the cached file for {@code entry}, fetching {@code location} first when it is
     * missing. A checksum mismatch is an error that shows both checksums; nothing is cached.
     */
    public Path obtain(SourcesFile.Entry entry, String location, String sourcesPath, Consumer<String> progress) {
        Path cached = pathOf(entry.sha512());
        if (Files.isRegularFile(cached)) {
            return cached;
        }
        try {
            Files.createDirectories(cached.getParent());
            Path partial = Files.createTempFile(cached.getParent(), entry.fileName(), ".part");
            try {
                progress.accept("fetching " + location);
                String actual;
                try (InputStream in = fetcher.open(location);
                        OutputStream out = Files.newOutputStream(partial)) {
                    actual = copyWithSha512(in, out);
                }
                if (!actual.equals(entry.sha512())) {
                    throw KilnException.badInput("checksum mismatch for " + entry.fileName() + " from " + location
                            + ": " + sourcesPath + " expects SHA512 " + entry.sha512() + " but the download has "
                            + actual + "; fix the URL or the sources entry");
                }
                Files.move(partial, cached, StandardCopyOption.ATOMIC_MOVE);
                return cached;
            } finally {
                Files.deleteIfExists(partial);
            }
        } catch (IOException e) {
            throw KilnException.badInput("cannot fetch " + location + " for " + entry.fileName() + ": " + e.getMessage());
        }
    }

    /**
     * Fetches a source whose checksum is not known yet (a version bump), stores it under its
     * SHA-512 and returns the entry to record in the {@code sources} file.
     */
    public SourcesFile.Entry add(String fileName, String location, Consumer<String> progress) {
        try {
            // Release URLs and Maven coordinates are immutable: a location fetched before is not fetched again.
            Path index = root.resolve("by-location").resolve(sha256(location));
            if (Files.isRegularFile(index)) {
                String known = Files.readString(index).strip();
                if (Files.isRegularFile(pathOf(known))) {
                    progress.accept(fileName + " is in the cache from an earlier fetch of " + location);
                    return new SourcesFile.Entry(fileName, known, 0);
                }
            }
            Path dir = root.resolve("sha512");
            Files.createDirectories(dir);
            Path partial = Files.createTempFile(dir, fileName, ".part");
            try {
                progress.accept("fetching " + location);
                String sha;
                try (InputStream in = fetcher.open(location); OutputStream out = Files.newOutputStream(partial)) {
                    sha = copyWithSha512(in, out);
                }
                Path cached = pathOf(sha);
                if (!Files.exists(cached)) {
                    Files.move(partial, cached, StandardCopyOption.ATOMIC_MOVE);
                }
                Files.createDirectories(index.getParent());
                Path indexPart = Files.createTempFile(index.getParent(), "index", ".part");
                Files.writeString(indexPart, sha + "\n");
                Files.move(indexPart, index, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return new SourcesFile.Entry(fileName, sha, 0);
            } finally {
                Files.deleteIfExists(partial);
            }
        } catch (IOException e) {
            throw KilnException.badInput("cannot fetch " + location + " for " + fileName + ": " + e.getMessage()
                    + "; check the Source URL for the new version, or use --no-fetch and add the file's checksum by hand");
        }
    }

    /** SHA-512 of a file, lower-case hex. */
    public static String sha512(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return copyWithSha512(in, OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public static String sha512(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    private static String sha256(String text) {
        return dev.kiln.Sha256.hex(text);
    }

    private static String copyWithSha512(InputStream in, OutputStream out) throws IOException {
        MessageDigest md = digest();
        try (DigestInputStream din = new DigestInputStream(in, md)) {
            din.transferTo(out);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
