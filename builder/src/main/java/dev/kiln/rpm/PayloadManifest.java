package dev.kiln.rpm;

import dev.kiln.KilnException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.eclipse.packager.rpm.RpmTag;
import org.eclipse.packager.rpm.parse.InputHeader;
import org.eclipse.packager.rpm.parse.RpmInputStream;

/**
 * What an RPM's header says about its payload, for telling whether two builds produced the same
 * content: the payload digest rpmbuild records (PAYLOADDIGEST, tag 5092, over the compressed
 * payload; PAYLOADDIGESTALT, 5097, over the uncompressed one) and, per file, the state rpm would
 * install: digest, size, mode, mtime, owner and link target. Read from the header only; signing
 * does not change any of it.
 *
 * <p>A separate reader rather than more components on {@link RpmFile}: {@link RpmFile.Entry} is
 * compared whole by the release guard, and mtimes and sizes would make every rebuild look changed there.
 *
 * @param digestAlgorithm the payload digest's algorithm as Java names it ({@code SHA-256}), empty when the header has none
 * @param payloadDigest hex digest of the compressed payload, empty for RPMs older than rpm 4.14
 * @param uncompressedPayloadDigest hex digest of the uncompressed payload, empty when absent
 */
public record PayloadManifest(Path path, Nevra nevra, String digestAlgorithm, String payloadDigest,
        String uncompressedPayloadDigest, List<FileState> files) {

    private static final int TAG_LONG_FILE_SIZES = 5008;
    private static final int TAG_FILE_MTIMES = 1034;
    private static final int TAG_FILE_SIZES = 1028;
    private static final int TAG_PAYLOAD_DIGEST = 5092;
    private static final int TAG_PAYLOAD_DIGEST_ALGO = 5093;
    private static final int TAG_PAYLOAD_DIGEST_ALT = 5097;

    /**
     * One file's recorded state.
     *
     * @param digest hex digest of a regular file's content, empty otherwise
     * @param mtime seconds since the epoch
     */
    public record FileState(String path, int mode, long size, long mtime, String digest, String linkTo, String user, String group) {

        /** The permission bits, without the file type: {@code 0644}. */
        public int permissions() {
            return mode & 07777;
        }
    }

    public PayloadManifest {
        files = List.copyOf(files);
    }

    /** Whether both packages carry a payload digest and the digests are equal. */
    public boolean samePayload(PayloadManifest other) {
        return !payloadDigest.isEmpty() && digestAlgorithm.equals(other.digestAlgorithm) && payloadDigest.equals(other.payloadDigest);
    }

    /**
     * Reads the header of {@code path}.
     *
     * @throws KilnException (BAD_INPUT) when the file is missing or is not an RPM
     */
    public static PayloadManifest read(Path path) {
        Nevra nevra = RpmFile.read(path).nevra();
        try (InputStream raw = Files.newInputStream(path);
                RpmInputStream in = new RpmInputStream(new BufferedInputStream(raw))) {
            in.getSignatureHeader();
            InputHeader<RpmTag> header = in.getPayloadHeader();
            String algorithm = header.getOptionalTag(TAG_PAYLOAD_DIGEST_ALGO).map(PayloadManifest::first)
                    .map(v -> algorithm(((Number) v).intValue())).orElse("");
            String digest = header.getOptionalTag(TAG_PAYLOAD_DIGEST).map(PayloadManifest::first).map(String::valueOf).orElse("");
            String alt = header.getOptionalTag(TAG_PAYLOAD_DIGEST_ALT).map(PayloadManifest::first).map(String::valueOf).orElse("");
            return new PayloadManifest(path, nevra, algorithm, digest, alt, files(header));
        } catch (NoSuchFileException e) {
            throw KilnException.badInput("no RPM file at " + path + ": check the path");
        } catch (IOException | RuntimeException e) {
            throw new KilnException(KilnException.BAD_INPUT, "not a readable RPM file: " + path + " (" + e.getMessage() + ")", e);
        }
    }

    /** rpm's PGPHASHALGO numbers. */
    static String algorithm(int id) {
        return switch (id) {
            case 1 -> "MD5";
            case 2 -> "SHA-1";
            case 8 -> "SHA-256";
            case 9 -> "SHA-384";
            case 10 -> "SHA-512";
            case 11 -> "SHA-224";
            default -> "pgphashalgo-" + id;
        };
    }

    private static List<FileState> files(InputHeader<RpmTag> header) {
        List<RpmFile.Entry> entries = RpmFile.entries(header);
        Object[] sizes = array(header.getOptionalTag(TAG_LONG_FILE_SIZES));
        if (sizes.length == 0) {
            sizes = array(header.getOptionalTag(TAG_FILE_SIZES));
        }
        Object[] mtimes = array(header.getOptionalTag(TAG_FILE_MTIMES));
        List<FileState> files = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            RpmFile.Entry e = entries.get(i);
            files.add(new FileState(e.path(), e.mode(),
                    i < sizes.length ? ((Number) sizes[i]).longValue() : 0,
                    i < mtimes.length ? Integer.toUnsignedLong(((Number) mtimes[i]).intValue()) : 0,
                    e.digest(), e.linkTo(), e.user(), e.group()));
        }
        return files;
    }

    private static Object first(Object value) {
        return value instanceof Object[] a && a.length > 0 ? a[0] : value;
    }

    private static Object[] array(Optional<Object> value) {
        return value.map(v -> v instanceof Object[] a ? a : new Object[] {v}).orElse(new Object[0]);
    }
}
