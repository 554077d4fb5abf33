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
import org.eclipse.packager.rpm.RpmSignatureTag;
import org.eclipse.packager.rpm.RpmTag;
import org.eclipse.packager.rpm.parse.InputHeader;
import org.eclipse.packager.rpm.parse.RpmInputStream;

/**
 * What Kiln needs to know about one RPM file, read from its headers only (the payload is not
 * decompressed): identity, whether it is a source RPM, whether it carries a signature, and the
 * files it installs as the header lists them.
 */
public record RpmFile(Path path, Nevra nevra, boolean source, boolean signed, List<Entry> files) {

    /** Signature tags rpm treats as an OpenPGP signature: RSAHEADER, DSAHEADER, PGP (RSA), GPG (DSA). */
    private static final int[] SIGNATURE_TAGS = {268, 267, 1002, 1005};
    /** A lead whose type is 1 is a source package. */
    private static final short LEAD_TYPE_SOURCE = 1;
    /** NOSOURCE: a source package that leaves some sources out is a "nosrc" package. */
    private static final int TAG_NOSOURCE = 1051;

    /** One file the package installs, as recorded in the header. */
    public record Entry(String path, String user, String group, int mode) {
        public boolean directory() {
            return (mode & 0170000) == 0040000;
        }
    }

    public RpmFile {
        files = List.copyOf(files);
    }

    /** The canonical file name rpmbuild gives this package: {@code name-version-release.arch.rpm}. */
    public String canonicalFileName() {
        return nevra.name() + "-" + nevra.version() + "-" + nevra.release() + "." + nevra.arch() + ".rpm";
    }

    /**
     * Reads the lead and both headers of {@code path}.
     *
     * @throws KilnException (BAD_INPUT) when the file is missing or is not an RPM
     */
    public static RpmFile read(Path path) {
        try (InputStream raw = Files.newInputStream(path);
                RpmInputStream in = new RpmInputStream(new BufferedInputStream(raw))) {
            InputHeader<RpmSignatureTag> signature = in.getSignatureHeader();
            InputHeader<RpmTag> header = in.getPayloadHeader();
            // rpm's own test (headerIsSource): a binary package names its source RPM, a source package does not.
            boolean source = in.getLead().getType() == LEAD_TYPE_SOURCE
                    || header.getOptionalTag(RpmTag.SOURCE_PACKAGE).isEmpty();
            boolean signed = false;
            for (int tag : SIGNATURE_TAGS) {
                signed |= signature.getEntry(tag).isPresent();
            }
            String arch = source ? (header.getOptionalTag(TAG_NOSOURCE).isPresent() ? "nosrc" : "src") : string(header, RpmTag.ARCH);
            Nevra nevra = new Nevra(
                    string(header, RpmTag.NAME),
                    header.getOptionalTag(RpmTag.EPOCH).map(RpmFile::scalar).map(String::valueOf).orElse(""),
                    string(header, RpmTag.VERSION),
                    string(header, RpmTag.RELEASE),
                    arch);
            return new RpmFile(path, nevra, source, signed, entries(header));
        } catch (NoSuchFileException e) {
            throw KilnException.badInput("no RPM file at " + path + ": check the path");
        } catch (IOException | RuntimeException e) {
            throw new KilnException(KilnException.BAD_INPUT,
                    "not a readable RPM file: " + path + " (" + e.getMessage() + "): rebuild it or remove it from the list", e);
        }
    }

    private static String string(InputHeader<RpmTag> header, RpmTag tag) throws IOException {
        Object value = header.getOptionalTag(tag).map(RpmFile::scalar)
                .orElseThrow(() -> new IOException("header has no " + tag));
        return value.toString();
    }

    private static Object scalar(Object value) {
        return value instanceof Object[] array && array.length == 1 ? array[0] : value;
    }

    private static List<Entry> entries(InputHeader<RpmTag> header) {
        String[] baseNames = strings(header.getOptionalTag(RpmTag.BASENAMES));
        String[] dirNames = strings(header.getOptionalTag(RpmTag.DIRNAMES));
        Object[] dirIndexes = array(header.getOptionalTag(RpmTag.DIR_INDEXES));
        Object[] modes = array(header.getOptionalTag(RpmTag.FILE_MODES));
        String[] users = strings(header.getOptionalTag(RpmTag.FILE_USERNAME));
        String[] groups = strings(header.getOptionalTag(RpmTag.FILE_GROUPNAME));
        List<Entry> entries = new ArrayList<>(baseNames.length);
        for (int i = 0; i < baseNames.length; i++) {
            String dir = dirNames[((Number) dirIndexes[i]).intValue()];
            entries.add(new Entry(dir + baseNames[i],
                    i < users.length ? users[i] : "root",
                    i < groups.length ? groups[i] : "root",
                    i < modes.length ? ((Number) modes[i]).intValue() & 0xFFFF : 0));
        }
        return entries;
    }

    private static Object[] array(Optional<Object> value) {
        return value.map(v -> v instanceof Object[] a ? a : new Object[] {v}).orElse(new Object[0]);
    }

    private static String[] strings(Optional<Object> value) {
        Object[] array = array(value);
        String[] result = new String[array.length];
        for (int i = 0; i < array.length; i++) {
            result[i] = String.valueOf(array[i]);
        }
        return result;
    }
}
