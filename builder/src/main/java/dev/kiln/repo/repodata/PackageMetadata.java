package dev.kiln.repo.repodata;

import dev.kiln.KilnException;
import dev.kiln.Sha256;
import dev.kiln.rpm.Nevra;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.packager.rpm.RpmSignatureTag;
import org.eclipse.packager.rpm.RpmTag;
import org.eclipse.packager.rpm.parse.InputHeader;
import org.eclipse.packager.rpm.parse.RpmInputStream;

/**
 * One binary RPM's entries in the three repodata documents, made from its headers alone (the
 * payload is never read: the header lists every file, {@code %ghost} ones included) the way
 * {@code createrepo_c} makes them: the same fields, the same filtering of requirements
 * ({@code rpmlib(...)}, files the package itself has, what it provides itself, duplicates, only the
 * highest {@code libc.so.6}), the same primary file list, and the newest {@value #CHANGELOG_LIMIT}
 * changelog entries, oldest first. A fragment is a complete {@code <package>} element; a document is
 * its header, the fragments in any order, and its footer.
 *
 * @param pkgid the SHA-256 of the whole RPM file, how every document names the package
 * @param href the package's path relative to the repository root ({@code Packages/x-1-1.noarch.rpm})
 */
public record PackageMetadata(String pkgid, String href, Nevra nevra, long size, String primary, String filelists, String other) {

    /** createrepo_c's default {@code --changelog-limit}. */
    static final int CHANGELOG_LIMIT = 10;

    // rpm header tags (rpmtag.h); Eclipse Packager's enum lacks the weak dependencies.
    private static final int NAME = 1000, VERSION = 1001, RELEASE = 1002, EPOCH = 1003, SUMMARY = 1004, DESCRIPTION = 1005,
            BUILDTIME = 1006, BUILDHOST = 1007, SIZE = 1009, VENDOR = 1011, LICENSE = 1014, PACKAGER = 1015, GROUP = 1016,
            URL = 1020, ARCH = 1022, FILEMODES = 1030, FILEFLAGS = 1037, SOURCERPM = 1044,
            PROVIDENAME = 1047, REQUIREFLAGS = 1048, REQUIRENAME = 1049, REQUIREVERSION = 1050,
            CONFLICTFLAGS = 1053, CONFLICTNAME = 1054, CONFLICTVERSION = 1055,
            CHANGELOGTIME = 1080, CHANGELOGNAME = 1081, CHANGELOGTEXT = 1082, OBSOLETENAME = 1090,
            PROVIDEFLAGS = 1112, PROVIDEVERSION = 1113, OBSOLETEFLAGS = 1114, OBSOLETEVERSION = 1115,
            DIRINDEXES = 1116, BASENAMES = 1117, DIRNAMES = 1118, LONGSIZE = 5009,
            RECOMMENDNAME = 5046, RECOMMENDVERSION = 5047, RECOMMENDFLAGS = 5048,
            SUGGESTNAME = 5049, SUGGESTVERSION = 5050, SUGGESTFLAGS = 5051,
            SUPPLEMENTNAME = 5052, SUPPLEMENTVERSION = 5053, SUPPLEMENTFLAGS = 5054,
            ENHANCENAME = 5055, ENHANCEVERSION = 5056, ENHANCEFLAGS = 5057,
            PAYLOADDIGEST = 5092, PAYLOADDIGESTALGO = 5093;
    private static final int PGPHASHALGO_SHA256 = 8;
    /** Signature header: the payload's uncompressed size, 32 and 64 bit. */
    private static final int SIG_PAYLOADSIZE = 1007, SIG_LONGARCHIVESIZE = 271;
    /** rpmsenseFlags that make a requirement a "pre" one in primary.xml. */
    private static final int PRE = (1 << 6) | (1 << 9) | (1 << 10) | (1 << 7) | (1 << 19);
    private static final int GHOST = 1 << 6;

    /**
     * Reads {@code rpm}'s headers and hashes the file.
     *
     * @param href where the repository serves it, relative to its root
     * @throws KilnException BAD_INPUT for a file that is not a readable binary RPM
     */
    public static PackageMetadata read(Path rpm, String href) {
        try {
            long mtime = Files.getLastModifiedTime(rpm).toMillis() / 1000;
            long size = Files.size(rpm);
            Headers headers;
            try (InputStream raw = new BufferedInputStream(Files.newInputStream(rpm), 1 << 14)) {
                RpmInputStream in = new RpmInputStream(raw);
                headers = new Headers(in.getSignatureHeader(), in.getPayloadHeader());
            }
            // One pass over the file: its SHA-256 names the package, and the payload's is checked against
            // the header's PAYLOADDIGEST, so a cut or damaged payload is refused without unpacking it.
            MessageDigest sha = Sha256.digest();
            MessageDigest payload = Sha256.digest();
            long payloadStart = headers.main.getStart() + headers.main.getLength();
            try (InputStream file = Files.newInputStream(rpm)) {
                byte[] buffer = new byte[1 << 16];
                long position = 0;
                for (int n; (n = file.read(buffer)) > 0; position += n) {
                    sha.update(buffer, 0, n);
                    int skip = (int) Math.max(0, Math.min(n, payloadStart - position));
                    payload.update(buffer, skip, n - skip);
                }
            }
            String[] payloadDigest = strings(headers.main, PAYLOADDIGEST);
            long[] payloadAlgorithm = numbers(headers.main, PAYLOADDIGESTALGO);
            if (payloadDigest.length > 0 && payloadAlgorithm.length > 0 && payloadAlgorithm[0] == PGPHASHALGO_SHA256
                    && !payloadDigest[0].equalsIgnoreCase(HexFormat.of().formatHex(payload.digest()))) {
                throw KilnException.badInput("RPM " + rpm + " is damaged: its payload does not match the digest in its header"
                        + " (cut short or altered); copy or rebuild it again");
            }
            if (headers.main.getOptionalTag(SOURCERPM).isEmpty()) {
                throw KilnException.badInput("RPM " + rpm + " is a source RPM: only binary RPMs are indexed");
            }
            return of(headers, HexFormat.of().formatHex(sha.digest()), href, size, mtime);
        } catch (KilnException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new KilnException(KilnException.BAD_INPUT, "cannot index RPM " + rpm.getFileName()
                    + " (" + e.getMessage() + "): it is corrupt; rebuild it", e);
        }
    }

    private record Headers(InputHeader<RpmSignatureTag> signature, InputHeader<RpmTag> main) {
    }

    private static PackageMetadata of(Headers h, String pkgid, String href, long size, long mtime) {
        InputHeader<RpmTag> m = h.main;
        String name = string(m, NAME);
        String arch = string(m, ARCH);
        String epoch = number(m, EPOCH).map(String::valueOf).orElse("");
        String version = string(m, VERSION);
        String release = string(m, RELEASE);
        Nevra nevra = new Nevra(name, epoch, version, release, arch);
        String versionElement = "<version epoch=\"" + (epoch.isEmpty() ? "0" : epoch) + "\" ver=\"" + attr(version)
                + "\" rel=\"" + attr(release) + "\"/>\n";

        List<String> files = new ArrayList<>();
        List<String> types = new ArrayList<>();
        String[] baseNames = strings(m, BASENAMES);
        String[] dirNames = strings(m, DIRNAMES);
        long[] dirIndexes = numbers(m, DIRINDEXES);
        long[] modes = numbers(m, FILEMODES);
        long[] flags = numbers(m, FILEFLAGS);
        for (int i = 0; i < baseNames.length; i++) {
            files.add(dirNames[(int) dirIndexes[i]] + baseNames[i]);
            boolean dir = i < modes.length && (modes[i] & 0170000) == 0040000;
            boolean ghost = i < flags.length && (flags[i] & GHOST) != 0;
            types.add(dir ? "dir" : ghost ? "ghost" : "");
        }

        StringBuilder p = new StringBuilder(2048);
        p.append("<package type=\"rpm\">\n");
        p.append("  <name>").append(text(name)).append("</name>\n");
        p.append("  <arch>").append(text(arch)).append("</arch>\n");
        p.append("  ").append(versionElement);
        p.append("  <checksum type=\"sha256\" pkgid=\"YES\">").append(pkgid).append("</checksum>\n");
        element(p, "  ", "summary", optional(m, SUMMARY));
        element(p, "  ", "description", optional(m, DESCRIPTION));
        element(p, "  ", "packager", optional(m, PACKAGER));
        element(p, "  ", "url", optional(m, URL));
        p.append("  <time file=\"").append(mtime).append("\" build=\"").append(number(m, BUILDTIME).orElse(0L)).append("\"/>\n");
        long installed = number(m, LONGSIZE).or(() -> number(m, SIZE)).orElse(0L);
        long archive = numberOf(h.signature, SIG_LONGARCHIVESIZE).or(() -> numberOf(h.signature, SIG_PAYLOADSIZE)).orElse(0L);
        p.append("  <size package=\"").append(size).append("\" installed=\"").append(installed)
                .append("\" archive=\"").append(archive).append("\"/>\n");
        p.append("  <location href=\"").append(attr(href)).append("\"/>\n");
        p.append("  <format>\n");
        element(p, "    ", "rpm:license", optional(m, LICENSE));
        element(p, "    ", "rpm:vendor", optional(m, VENDOR));
        element(p, "    ", "rpm:group", optional(m, GROUP));
        element(p, "    ", "rpm:buildhost", optional(m, BUILDHOST));
        element(p, "    ", "rpm:sourcerpm", optional(m, SOURCERPM));
        long start = m.getStart();
        p.append("    <rpm:header-range start=\"").append(start).append("\" end=\"").append(start + m.getLength()).append("\"/>\n");

        Set<String> fileSet = new HashSet<>(files);
        List<Dep> provides = deps(m, PROVIDENAME, PROVIDEFLAGS, PROVIDEVERSION);
        Set<String> provided = new HashSet<>();
        provides.forEach(d -> provided.add(d.key()));
        dependencies(p, "rpm:provides", provides, false);
        dependencies(p, "rpm:requires", requires(deps(m, REQUIRENAME, REQUIREFLAGS, REQUIREVERSION), fileSet, provided), true);
        dependencies(p, "rpm:conflicts", deps(m, CONFLICTNAME, CONFLICTFLAGS, CONFLICTVERSION), false);
        dependencies(p, "rpm:obsoletes", deps(m, OBSOLETENAME, OBSOLETEFLAGS, OBSOLETEVERSION), false);
        dependencies(p, "rpm:suggests", deps(m, SUGGESTNAME, SUGGESTFLAGS, SUGGESTVERSION), false);
        dependencies(p, "rpm:enhances", deps(m, ENHANCENAME, ENHANCEFLAGS, ENHANCEVERSION), false);
        dependencies(p, "rpm:recommends", deps(m, RECOMMENDNAME, RECOMMENDFLAGS, RECOMMENDVERSION), false);
        dependencies(p, "rpm:supplements", deps(m, SUPPLEMENTNAME, SUPPLEMENTFLAGS, SUPPLEMENTVERSION), false);
        for (int i = 0; i < files.size(); i++) {
            if (primaryFile(files.get(i))) {
                file(p, "    ", files.get(i), types.get(i));
            }
        }
        p.append("  </format>\n</package>\n");

        String packageAttrs = "<package pkgid=\"" + pkgid + "\" name=\"" + attr(name) + "\" arch=\"" + attr(arch) + "\">\n";
        StringBuilder f = new StringBuilder(64 + files.size() * 48);
        f.append(packageAttrs).append("  ").append(versionElement);
        for (int i = 0; i < files.size(); i++) {
            file(f, "  ", files.get(i), types.get(i));
        }
        f.append("</package>\n");

        StringBuilder o = new StringBuilder(512);
        o.append(packageAttrs).append("  ").append(versionElement);
        changelogs(o, m);
        o.append("</package>\n");
        return new PackageMetadata(pkgid, href, nevra, size, p.toString(), f.toString(), o.toString());
    }

    /** createrepo_c's {@code cr_is_primary}: the files dependency solving most often asks for. */
    static boolean primaryFile(String path) {
        return path.startsWith("/etc/") || path.equals("/usr/lib/sendmail") || path.contains("bin/");
    }

    private record Dep(String name, long flags, String version) {
        String operator() {
            return switch ((int) (flags & 0xf)) {
                case 2 -> "LT";
                case 4 -> "GT";
                case 8 -> "EQ";
                case 10 -> "LE";
                case 12 -> "GE";
                default -> "";
            };
        }

        /** What createrepo_c compares a requirement with the package's provides by: name, flags and version. */
        String key() {
            return name + operator() + version;
        }

        boolean pre() {
            return (flags & PRE) != 0;
        }
    }

    private static List<Dep> deps(InputHeader<RpmTag> m, int nameTag, int flagsTag, int versionTag) {
        String[] names = strings(m, nameTag);
        long[] flags = numbers(m, flagsTag);
        String[] versions = strings(m, versionTag);
        List<Dep> result = new ArrayList<>(names.length);
        for (int i = 0; i < names.length; i++) {
            if (!names[i].isEmpty()) {
                result.add(new Dep(names[i], i < flags.length ? flags[i] : 0, i < versions.length ? versions[i] : ""));
            }
        }
        return result;
    }

    private static List<Dep> requires(List<Dep> all, Set<String> files, Set<String> provided) {
        List<Dep> kept = new ArrayList<>();
        Map<String, Dep> seen = new HashMap<>();
        Dep libc = null;
        for (Dep d : all) {
            if (d.name.startsWith("rpmlib(")
                    || (d.name.startsWith("/") && files.contains(d.name) && primaryFile(d.name))
                    || provided.contains(d.key())) {
                continue;
            }
            Dep earlier = seen.get(d.name);
            if (earlier != null && earlier.operator().equals(d.operator()) && earlier.version.equals(d.version)
                    && earlier.pre() == d.pre()) {
                continue;
            }
            if (d.name.startsWith("libc.so.6")) {
                if (libc == null || compareLibc(libc.name, d.name) < 0) {
                    libc = d;
                }
                continue;
            }
            kept.add(d);
            seen.put(d.name, d);
        }
        if (libc != null) {
            kept.add(libc);
        }
        return kept;
    }

    /** createrepo_c keeps only the highest of {@code libc.so.6()}, {@code libc.so.6(GLIBC_2.3.4)(64bit)}, ...: compares what is in the first parentheses. */
    private static int compareLibc(String a, String b) {
        String va = libcVersion(a);
        String vb = libcVersion(b);
        if (va == null || vb == null) {
            return va == null ? (vb == null ? 0 : -1) : 1;
        }
        return dev.kiln.rpm.RpmVersion.compare(va, vb);
    }

    private static String libcVersion(String dep) {
        int open = dep.indexOf('(');
        int close = open < 0 ? -1 : dep.indexOf(')', open);
        if (close < 0) {
            return null;
        }
        int digit = open + 1;
        while (digit < close && !Character.isDigit(dep.charAt(digit))) {
            digit++;
        }
        return digit >= close ? null : dep.substring(digit, close);
    }

    private static void dependencies(StringBuilder out, String element, List<Dep> deps, boolean requires) {
        if (deps.isEmpty()) {
            return;
        }
        out.append("    <").append(element).append(">\n");
        for (Dep d : deps) {
            out.append("      <rpm:entry name=\"").append(attr(d.name)).append('"');
            String op = d.operator();
            if (!op.isEmpty()) {
                out.append(" flags=\"").append(op).append('"');
                Evr evr = Evr.parse(d.version);
                if (evr != null) {
                    out.append(" epoch=\"").append(attr(evr.epoch)).append('"');
                    if (!evr.version.isEmpty()) {
                        out.append(" ver=\"").append(attr(evr.version)).append('"');
                    }
                    if (!evr.release.isEmpty()) {
                        out.append(" rel=\"").append(attr(evr.release)).append('"');
                    }
                }
            }
            if (requires && d.pre()) {
                out.append(" pre=\"1\"");
            }
            out.append("/>\n");
        }
        out.append("    </").append(element).append(">\n");
    }

    private record Evr(String epoch, String version, String release) {
        /** createrepo_c's {@code cr_str_to_evr}: {@code [epoch:]version[-release]}, epoch 0 when absent. */
        static Evr parse(String s) {
            if (s.isEmpty()) {
                return null;
            }
            String epoch = "0";
            String rest = s;
            int colon = s.indexOf(':');
            if (colon >= 0 && s.substring(0, colon).matches("[0-9]+")) {
                epoch = s.substring(0, colon);
                rest = s.substring(colon + 1);
            }
            int dash = rest.lastIndexOf('-');
            return dash < 0 ? new Evr(epoch, rest, "") : new Evr(epoch, rest.substring(0, dash), rest.substring(dash + 1));
        }
    }

    private static void changelogs(StringBuilder out, InputHeader<RpmTag> m) {
        long[] times = numbers(m, CHANGELOGTIME);
        String[] names = strings(m, CHANGELOGNAME);
        String[] texts = strings(m, CHANGELOGTEXT);
        int n = Math.min(CHANGELOG_LIMIT, Math.min(times.length, Math.min(names.length, texts.length)));
        long[] dates = java.util.Arrays.copyOf(times, n);
        // createrepo_c: entries sharing a time get distinct ones, the older entry (later in the header) one second more.
        for (int i = 1; i < n; i++) {
            if (times[i] == times[i - 1]) {
                for (int j = i - 1; j >= 0 && dates[j] == times[i] + (i - 1 - j); j--) {
                    dates[j]++;
                }
            }
        }
        for (int i = n - 1; i >= 0; i--) {
            out.append("  <changelog author=\"").append(attr(names[i].stripTrailing())).append("\" date=\"").append(dates[i])
                    .append("\">").append(text(texts[i])).append("</changelog>\n");
        }
    }

    private static void file(StringBuilder out, String indent, String path, String type) {
        out.append(indent).append("<file");
        if (!type.isEmpty()) {
            out.append(" type=\"").append(type).append('"');
        }
        out.append('>').append(text(path)).append("</file>\n");
    }

    private static void element(StringBuilder out, String indent, String name, String value) {
        out.append(indent).append('<').append(name).append('>').append(text(value)).append("</").append(name).append(">\n");
    }

    // --- header access -------------------------------------------------------------------------

    private static String string(InputHeader<RpmTag> h, int tag) {
        String value = optional(h, tag);
        if (value.isEmpty() && h.getOptionalTag(tag).isEmpty()) {
            throw new IllegalArgumentException("header has no tag " + tag);
        }
        return value;
    }

    /** A string tag's value (the first of an internationalized one), empty when the header lacks it. */
    private static String optional(InputHeader<RpmTag> h, int tag) {
        Object v = h.getOptionalTag(tag).orElse(null);
        if (v instanceof Object[] a) {
            v = a.length == 0 ? null : a[0];
        }
        return v == null ? "" : v.toString();
    }

    private static Optional<Long> number(InputHeader<RpmTag> h, int tag) {
        long[] values = numbers(h, tag);
        return values.length == 0 ? Optional.empty() : Optional.of(values[0]);
    }

    private static Optional<Long> numberOf(InputHeader<RpmSignatureTag> h, int tag) {
        Object v = h.getOptionalTag(tag).orElse(null);
        long[] values = toNumbers(v);
        return values.length == 0 ? Optional.empty() : Optional.of(values[0]);
    }

    private static long[] numbers(InputHeader<RpmTag> h, int tag) {
        return toNumbers(h.getOptionalTag(tag).orElse(null));
    }

    private static long[] toNumbers(Object v) {
        if (v == null) {
            return new long[0];
        }
        if (v instanceof Object[] a) {
            long[] r = new long[a.length];
            for (int i = 0; i < a.length; i++) {
                r[i] = unsigned((Number) a[i]);
            }
            return r;
        }
        return new long[] {unsigned((Number) v)};
    }

    /** rpm's 16 and 32 bit integers are unsigned (file modes above 0x7fff, sizes above 2 GiB). */
    private static long unsigned(Number n) {
        return switch (n) {
            case Short s -> s & 0xffffL;
            case Integer i -> i & 0xffffffffL;
            case Byte b -> b & 0xffL;
            default -> n.longValue();
        };
    }

    private static String[] strings(InputHeader<RpmTag> h, int tag) {
        Object v = h.getOptionalTag(tag).orElse(null);
        if (v == null) {
            return new String[0];
        }
        if (v instanceof Object[] a) {
            String[] r = new String[a.length];
            for (int i = 0; i < a.length; i++) {
                r[i] = String.valueOf(a[i]);
            }
            return r;
        }
        return new String[] {v.toString()};
    }

    // --- XML escaping ----------------------------------------------------------------------------

    static String text(String s) {
        return escape(s, false);
    }

    static String attr(String s) {
        return escape(s, true);
    }

    private static String escape(String s, boolean attribute) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String rep = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> attribute ? "&quot;" : null;
                case '\n' -> attribute ? "&#10;" : null;
                case '\r' -> "&#13;";
                case '\t' -> attribute ? "&#9;" : null;
                default -> c < 0x20 || c == 0xfffe || c == 0xffff ? "" : null; // not allowed in XML 1.0 at all
            };
            if (rep != null && out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (out != null) {
                out.append(rep != null ? rep : String.valueOf(c));
            }
        }
        return out == null ? s : out.toString();
    }
}
