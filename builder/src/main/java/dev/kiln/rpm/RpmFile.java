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
 * decompressed): identity, whether it is a source RPM, whether it carries a signature, the files it
 * installs as the header lists them, the source RPM it was built from, its dependencies and its
 * scriptlets.
 *
 * @param sourceRpm the SOURCERPM header of a binary package ({@code maven-3.9.9-1.src.rpm}); empty for a source package
 */
public record RpmFile(Path path, Nevra nevra, boolean source, boolean signed, List<Entry> files,
        String sourceRpm, List<Dependency> provides, List<Dependency> requires, List<Dependency> obsoletes,
        List<Dependency> conflicts, List<Scriptlet> scriptlets) {

    /** Signature tags rpm treats as an OpenPGP signature: RSAHEADER, DSAHEADER, PGP (RSA), GPG (DSA). */
    private static final int[] SIGNATURE_TAGS = {268, 267, 1002, 1005};
    /** A lead whose type is 1 is a source package. */
    private static final short LEAD_TYPE_SOURCE = 1;
    /** NOSOURCE: a source package that leaves some sources out is a "nosrc" package. */
    private static final int TAG_NOSOURCE = 1051;

    /** File flag bits from rpm's {@code rpmfileAttrs}. */
    private static final int FILE_CONFIG = 1;
    private static final int FILE_DOC = 1 << 1;
    private static final int FILE_GHOST = 1 << 6;
    private static final int FILE_LICENSE = 1 << 7;

    /**
     * One file the package installs, as recorded in the header.
     *
     * @param linkTo the target of a symbolic link, empty for anything else
     * @param flags rpm's file flags ({@code %config}, {@code %doc}, {@code %ghost}, ...)
     * @param digest the hex digest of a regular file's content, empty for anything else
     */
    public record Entry(String path, String user, String group, int mode, String linkTo, int flags, String digest) {

        public Entry {
            linkTo = linkTo == null ? "" : linkTo;
            digest = digest == null ? "" : digest;
        }

        public Entry(String path, String user, String group, int mode) {
            this(path, user, group, mode, "", 0, "");
        }

        public boolean directory() {
            return (mode & 0170000) == 0040000;
        }

        public boolean symlink() {
            return (mode & 0170000) == 0120000;
        }

        /** The permission bits, without the file type: {@code 0755}. */
        public int permissions() {
            return mode & 07777;
        }

        public boolean config() {
            return (flags & FILE_CONFIG) != 0;
        }

        public boolean doc() {
            return (flags & FILE_DOC) != 0;
        }

        public boolean ghost() {
            return (flags & FILE_GHOST) != 0;
        }

        public boolean license() {
            return (flags & FILE_LICENSE) != 0;
        }

        /** The file name without its folder. */
        public String baseName() {
            return path.substring(path.lastIndexOf('/') + 1);
        }
    }

    /**
     * One Provides, Requires, Obsoletes or Conflicts entry.
     *
     * @param flags rpm's {@code rpmsenseFlags}: the comparison bits plus context (pre, post, rpmlib, ...)
     * @param version the version it is compared with, empty when unversioned
     */
    public record Dependency(String name, int flags, String version) {

        private static final int LESS = 1 << 1;
        private static final int GREATER = 1 << 2;
        private static final int EQUAL = 1 << 3;
        private static final int RPMLIB = 1 << 24;

        public Dependency {
            version = version == null ? "" : version;
        }

        /** The comparison as a spec writes it: {@code <}, {@code <=}, {@code =}, {@code >=}, {@code >}, or empty. */
        public String operator() {
            return switch (flags & (LESS | GREATER | EQUAL)) {
                case LESS -> "<";
                case LESS | EQUAL -> "<=";
                case EQUAL -> "=";
                case GREATER | EQUAL -> ">=";
                case GREATER -> ">";
                default -> "";
            };
        }

        /** An {@code rpmlib(...)} requirement rpmbuild adds for features of the payload, not one the packager wrote. */
        public boolean rpmlib() {
            return (flags & RPMLIB) != 0 || name.startsWith("rpmlib(");
        }

        @Override
        public String toString() {
            return version.isEmpty() || operator().isEmpty() ? name : name + " " + operator() + " " + version;
        }
    }

    /**
     * A script rpm runs around installing or removing the package.
     *
     * @param name the spec section without its percent sign: {@code pre}, {@code post}, {@code preun}, {@code postun}, {@code pretrans}, {@code posttrans}
     * @param interpreter the program and its arguments ({@code /bin/sh}, {@code <lua>}, {@code /sbin/ldconfig})
     * @param body the script text, empty for {@code -p} scriptlets that only name a program
     */
    public record Scriptlet(String name, String interpreter, String body) {
    }

    public RpmFile {
        files = List.copyOf(files);
        sourceRpm = sourceRpm == null ? "" : sourceRpm;
        provides = List.copyOf(provides);
        requires = List.copyOf(requires);
        obsoletes = List.copyOf(obsoletes);
        conflicts = List.copyOf(conflicts);
        scriptlets = List.copyOf(scriptlets);
    }

    /** A package with only the identity and files, for callers that need no dependencies or scriptlets. */
    public RpmFile(Path path, Nevra nevra, boolean source, boolean signed, List<Entry> files) {
        this(path, nevra, source, signed, files, "", List.of(), List.of(), List.of(), List.of(), List.of());
    }

    /**
     * The name of the source package this one was built from: {@code maven} for a binary whose SOURCERPM
     * is {@code maven-3.9.9-1.src.rpm}, and the package's own name for a source package. Binary packages
     * of one build (a main package and its subpackages) share it.
     */
    public String sourceName() {
        if (source || sourceRpm.isEmpty()) {
            return nevra.name();
        }
        // name-version-release.src.rpm: version and release never contain a dash, the name may.
        String base = sourceRpm.replaceFirst("\\.(no)?src\\.rpm$", "");
        int releaseDash = base.lastIndexOf('-');
        int versionDash = releaseDash <= 0 ? -1 : base.lastIndexOf('-', releaseDash - 1);
        return versionDash <= 0 ? base : base.substring(0, versionDash);
    }

    /** {@code [epoch:]version-release}, the form rpm uses for the version of a package's self-provide. */
    public String evr() {
        return (nevra.epoch().isEmpty() ? "" : nevra.epoch() + ":") + nevra.version() + "-" + nevra.release();
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
            String sourceRpm = source ? "" : header.getOptionalTag(RpmTag.SOURCE_PACKAGE).map(RpmFile::scalar)
                    .map(String::valueOf).orElse("");
            return new RpmFile(path, nevra, source, signed, entries(header), sourceRpm,
                    dependencies(header, RpmTag.PROVIDE_NAME, RpmTag.PROVIDE_FLAGS, RpmTag.PROVIDE_VERSION),
                    dependencies(header, RpmTag.REQUIRE_NAME, RpmTag.REQUIRE_FLAGS, RpmTag.REQUIRE_VERSION),
                    dependencies(header, RpmTag.OBSOLETE_NAME, RpmTag.OBSOLETE_FLAGS, RpmTag.OBSOLETE_VERSION),
                    dependencies(header, RpmTag.CONFLICT_NAME, RpmTag.CONFLICT_FLAGS, RpmTag.CONFLICT_VERSION),
                    scriptlets(header));
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

    // Package-private: PayloadManifest reads the same file list.
    static List<Entry> entries(InputHeader<RpmTag> header) {
        String[] baseNames = strings(header.getOptionalTag(RpmTag.BASENAMES));
        String[] dirNames = strings(header.getOptionalTag(RpmTag.DIRNAMES));
        Object[] dirIndexes = array(header.getOptionalTag(RpmTag.DIR_INDEXES));
        Object[] modes = array(header.getOptionalTag(RpmTag.FILE_MODES));
        String[] users = strings(header.getOptionalTag(RpmTag.FILE_USERNAME));
        String[] groups = strings(header.getOptionalTag(RpmTag.FILE_GROUPNAME));
        String[] links = strings(header.getOptionalTag(RpmTag.FILE_LINKTO));
        Object[] flags = array(header.getOptionalTag(RpmTag.FILE_FLAGS));
        String[] digests = strings(header.getOptionalTag(RpmTag.FILE_DIGESTS));
        List<Entry> entries = new ArrayList<>(baseNames.length);
        for (int i = 0; i < baseNames.length; i++) {
            String dir = dirNames[((Number) dirIndexes[i]).intValue()];
            entries.add(new Entry(dir + baseNames[i],
                    i < users.length ? users[i] : "root",
                    i < groups.length ? groups[i] : "root",
                    i < modes.length ? ((Number) modes[i]).intValue() & 0xFFFF : 0,
                    i < links.length ? links[i] : "",
                    i < flags.length ? ((Number) flags[i]).intValue() : 0,
                    i < digests.length ? digests[i] : ""));
        }
        return entries;
    }

    private static List<Dependency> dependencies(InputHeader<RpmTag> header, RpmTag nameTag, RpmTag flagsTag, RpmTag versionTag) {
        String[] names = strings(header.getOptionalTag(nameTag));
        Object[] flags = array(header.getOptionalTag(flagsTag));
        String[] versions = strings(header.getOptionalTag(versionTag));
        List<Dependency> result = new ArrayList<>(names.length);
        for (int i = 0; i < names.length; i++) {
            result.add(new Dependency(names[i],
                    i < flags.length ? ((Number) flags[i]).intValue() : 0,
                    i < versions.length ? versions[i] : ""));
        }
        return result;
    }

    private static List<Scriptlet> scriptlets(InputHeader<RpmTag> header) {
        List<Scriptlet> result = new ArrayList<>();
        scriptlet(header, result, "pretrans", RpmTag.PRETRANSACTION_SCRIPT, RpmTag.PRETRANSACTION_SCRIPT_PROG);
        scriptlet(header, result, "pre", RpmTag.PREINSTALL_SCRIPT, RpmTag.PREINSTALL_SCRIPT_PROG);
        scriptlet(header, result, "post", RpmTag.POSTINSTALL_SCRIPT, RpmTag.POSTINSTALL_SCRIPT_PROG);
        scriptlet(header, result, "preun", RpmTag.PREREMOVE_SCRIPT, RpmTag.PREREMOVE_SCRIPT_PROG);
        scriptlet(header, result, "postun", RpmTag.POSTREMOVE_SCRIPT, RpmTag.POSTREMOVE_SCRIPT_PROG);
        scriptlet(header, result, "posttrans", RpmTag.POSTTRANSACTION_SCRIPT, RpmTag.POSTTRANSACTION_SCRIPT_PROG);
        return result;
    }

    private static void scriptlet(InputHeader<RpmTag> header, List<Scriptlet> into, String name, RpmTag scriptTag, RpmTag progTag) {
        Optional<Object> script = header.getOptionalTag(scriptTag);
        Optional<Object> prog = header.getOptionalTag(progTag);
        if (script.isEmpty() && prog.isEmpty()) {
            return;
        }
        // The program is a plain string in older headers and a string array (program plus arguments) in newer ones.
        String interpreter = String.join(" ", strings(prog));
        into.add(new Scriptlet(name, interpreter.isEmpty() ? "/bin/sh" : interpreter,
                script.map(RpmFile::scalar).map(String::valueOf).orElse("")));
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
