package dev.kiln.repo.repodata;

import dev.kiln.Sha256;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;
import java.util.zip.DataFormatException;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;

/**
 * One gzip-compressed repodata document written as several gzip members: a header member (the XML
 * declaration and the root element with its package count), one member per batch of packages, and a
 * fixed footer member. zlib, and so dnf (libsolv) and createrepo_c, read concatenated members as one
 * stream. Adding packages therefore copies the earlier file's package members byte for byte and
 * appends one member: nothing published earlier is decompressed, parsed or compressed again, and
 * memory holds only the new packages.
 */
public enum MetadataDocument {

    PRIMARY("primary", PackageMetadata::primary, n -> """
            <?xml version="1.0" encoding="UTF-8"?>
            <metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%d">
            """.formatted(n), "</metadata>\n"),
    FILELISTS("filelists", PackageMetadata::filelists, n -> """
            <?xml version="1.0" encoding="UTF-8"?>
            <filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="%d">
            """.formatted(n), "</filelists>\n"),
    OTHER("other", PackageMetadata::other, n -> """
            <?xml version="1.0" encoding="UTF-8"?>
            <otherdata xmlns="http://linux.duke.edu/metadata/other" packages="%d">
            """.formatted(n), "</otherdata>\n"),
    /**
     * Kiln's own list of what the documents hold, one line per package ({@code pkgid href nevra}),
     * so a publish can tell what is indexed without reading primary.xml. dnf ignores data types it
     * does not know.
     */
    PACKAGES("kiln-packages", p -> p.pkgid() + " " + p.href() + " " + p.nevra() + "\n", n -> "", "");

    private final String type;
    private final Function<PackageMetadata, String> fragment;
    private final Function<Long, String> header;
    private final byte[] footerMember;

    MetadataDocument(String type, Function<PackageMetadata, String> fragment, Function<Long, String> header, String footer) {
        this.type = type;
        this.fragment = fragment;
        this.header = header;
        this.footerMember = member(footer);
    }

    int footerLength() {
        return footerMember.length;
    }

    /** The {@code <data type>} in repomd.xml. */
    public String type() {
        return type;
    }

    /**
     * A written document: its file (named {@code <sha256>-<type>.xml.gz}, as createrepo_c names
     * them), compressed size and checksum, and how many packages it lists.
     */
    public record Written(MetadataDocument document, Path file, String checksum, long size, long packages) {
        public String href() {
            return "repodata/" + file.getFileName();
        }
    }

    /**
     * Writes into {@code folder} the document listing the packages of {@code earlier} (a file this
     * class wrote, listing {@code earlierCount} packages; null for none) followed by {@code added}.
     *
     * @throws IOException also when {@code earlier} is not laid out as this class writes it
     */
    public Written write(Path earlier, long earlierCount, List<PackageMetadata> added, Path folder) throws IOException {
        return write(earlier, earlierCount, java.util.Map.of(), added, folder);
    }

    /**
     * Writes the document as {@link #write(Path, long, List, Path)} does, without the packages of
     * {@code earlier} at the positions {@code removed} names (0 for its first package, the same in
     * every document of a set: they are all written in one order), each mapped to its pkgid, which
     * must be in the entry left out. Every member holding none of them is copied byte for byte; a
     * member holding one is inflated and its other packages written again as one new member. No
     * RPM is read.
     *
     * @throws IOException also when a position is past the document's end or its entry is not that package's
     */
    public Written write(Path earlier, long earlierCount, java.util.Map<Long, String> removed, List<PackageMetadata> added, Path folder)
            throws IOException {
        long count = earlierCount - removed.size() + added.size();
        Path temp = Files.createTempFile(folder, "." + type, ".part");
        MessageDigest sha = Sha256.digest();
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(out, ByteBuffer.wrap(member(header.apply(count))), sha);
                if (earlier != null && removed.isEmpty()) {
                    copyPackageMembers(earlier, out, sha);
                } else if (earlier != null) {
                    copyPackageMembersWithout(earlier, new java.util.TreeMap<>(removed), out, sha);
                } else if (!removed.isEmpty()) {
                    throw new IOException("no earlier " + type + " document to remove packages from");
                }
                if (!added.isEmpty()) {
                    writeFully(out, ByteBuffer.wrap(packagesMember(added)), sha);
                }
                writeFully(out, ByteBuffer.wrap(footerMember), sha);
                out.force(true);
            }
            String checksum = HexFormat.of().formatHex(sha.digest());
            Path file = folder.resolve(checksum + "-" + type + (this == PACKAGES ? ".gz" : ".xml.gz"));
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return new Written(this, file, checksum, Files.size(file), count);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private byte[] packagesMember(List<PackageMetadata> added) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(added.size() * 512);
        try (OutputStream gz = new GZIPOutputStream(bytes, 1 << 16)) {
            for (PackageMetadata p : added) {
                gz.write(fragment.apply(p).getBytes(StandardCharsets.UTF_8));
            }
        }
        return bytes.toByteArray();
    }

    /** Copies everything between {@code earlier}'s header member and its footer member. */
    private void copyPackageMembers(Path earlier, FileChannel out, MessageDigest sha) throws IOException {
        long[] range = packageMembers(earlier);
        try (FileChannel in = FileChannel.open(earlier, StandardOpenOption.READ)) {
            copyRange(in, range[0], range[1], out, sha);
        }
    }

    /** Where the package members of {@code earlier} start and end: after its header member, before its footer member. */
    private long[] packageMembers(Path earlier) throws IOException {
        long size = Files.size(earlier);
        long start = firstMemberEnd(earlier);
        long end = size - footerMember.length;
        if (end < start || !endsWithFooter(earlier, size)) {
            throw new IOException(earlier.getFileName() + " is not a document Kiln wrote (no footer member)");
        }
        return new long[] {start, end};
    }

    /**
     * Copies the package members of {@code earlier} as {@link #copyPackageMembers} does, leaving out
     * the entries at the positions {@code removed} names. A member is inflated once to count its
     * entries, and a second time only when it holds one to leave out.
     */
    private void copyPackageMembersWithout(Path earlier, java.util.NavigableMap<Long, String> removed, FileChannel out, MessageDigest sha)
            throws IOException {
        long[] range = packageMembers(earlier);
        long end = range[1];
        long index = 0;
        long left = 0;
        try (FileChannel in = FileChannel.open(earlier, StandardOpenOption.READ)) {
            long position = range[0];
            while (position < end) {
                long[] entries = {0};
                long memberEnd;
                try (Member member = new Member(in, position, earlier)) {
                    entries(member, (entry, length) -> entries[0]++);
                    memberEnd = member.end();
                }
                if (memberEnd > end) {
                    throw new IOException(earlier.getFileName() + ": a package member runs into the footer");
                }
                java.util.SortedMap<Long, String> here = removed.subMap(index, index + entries[0]);
                if (here.isEmpty()) {
                    copyRange(in, position, memberEnd, out, sha);
                } else {
                    left += here.size();
                    writeFully(out, ByteBuffer.wrap(memberWithout(in, position, earlier, index, here)), sha);
                }
                index += entries[0];
                position = memberEnd;
            }
        }
        if (left != removed.size()) {
            throw new IOException(earlier.getFileName() + " lists " + index + " packages; positions " + removed.tailMap(index).keySet()
                    + " are past its end");
        }
    }

    /** The entries of the member at {@code position} but those in {@code drop}, as one new member. */
    private byte[] memberWithout(FileChannel in, long position, Path file, long first, java.util.SortedMap<Long, String> drop)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 16);
        long[] index = {first};
        boolean[] any = {false};
        try (Member member = new Member(in, position, file); OutputStream gz = new GZIPOutputStream(bytes, 1 << 16)) {
            entries(member, (entry, length) -> {
                String pkgid = drop.get(index[0]);
                if (pkgid == null) {
                    gz.write(entry, 0, length);
                    any[0] = true;
                } else if (!new String(entry, 0, length, StandardCharsets.ISO_8859_1).contains(pkgid)) {
                    // the positions come from the package list: a document out of line with it must not lose the wrong package
                    throw new IOException(file.getFileName() + ": entry " + index[0] + " is not package " + pkgid);
                }
                index[0]++;
            });
        }
        return any[0] ? bytes.toByteArray() : new byte[0];
    }

    private static final byte[] ENTRY_END = "</package>\n".getBytes(StandardCharsets.US_ASCII);

    /** Receives one package's entry: {@code length} bytes of {@code entry}, up to and with its last newline. */
    @FunctionalInterface
    private interface EntrySink {
        void accept(byte[] entry, int length) throws IOException;
    }

    /**
     * Splits a member's text into package entries, on bytes (a line break inside a description stays
     * as it was): an entry of the XML documents ends with a line {@code </package>}, one of the package
     * list with any line.
     */
    private void entries(InputStream in, EntrySink sink) throws IOException {
        byte[] buffer = new byte[1 << 16];
        byte[] entry = new byte[8192];
        int length = 0;
        int lineStart = 0;
        for (int n; (n = in.read(buffer)) > 0; ) {
            for (int i = 0; i < n; i++) {
                if (length == entry.length) {
                    entry = java.util.Arrays.copyOf(entry, length * 2);
                }
                entry[length++] = buffer[i];
                if (buffer[i] == '\n') {
                    if (this == PACKAGES || length - lineStart == ENTRY_END.length
                            && java.util.Arrays.equals(entry, lineStart, length, ENTRY_END, 0, ENTRY_END.length)) {
                        sink.accept(entry, length);
                        length = 0;
                    }
                    lineStart = length;
                }
            }
        }
        if (length > 0) {
            throw new IOException("a gzip member of a " + type + " document ends inside a package entry");
        }
    }

    private static void copyRange(FileChannel in, long from, long to, FileChannel out, MessageDigest sha) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(1 << 20, Math.max(1, to - from)));
        long position = from;
        while (position < to) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), to - position));
            int n = in.read(buffer, position);
            if (n < 0) {
                throw new IOException("a document ended early");
            }
            position += n;
            buffer.flip();
            writeFully(out, buffer, sha);
        }
    }

    /**
     * One gzip member of a file, inflated as a stream that ends with the member (where
     * {@link java.util.zip.GZIPInputStream} would go on into the next one), and where it ends.
     * Kiln writes members with a plain 10-byte header (no name, comment or extra field).
     */
    private static final class Member extends InputStream {
        private final FileChannel in;
        private final Path file;
        private final Inflater inflater = new Inflater(true);
        private final byte[] input = new byte[1 << 16];
        private long next;

        Member(FileChannel in, long position, Path file) throws IOException {
            this.in = in;
            this.file = file;
            ByteBuffer head = ByteBuffer.allocate(10);
            while (head.hasRemaining() && in.read(head, position + head.position()) > 0) {
                // reads the header
            }
            byte[] h = head.array();
            if (head.hasRemaining() || (h[0] & 0xff) != 0x1f || (h[1] & 0xff) != 0x8b || h[2] != 8 || h[3] != 0) {
                inflater.end();
                throw new IOException(file.getFileName() + ": no plain gzip member at byte " + position);
            }
            next = position + 10;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                while (true) {
                    if (inflater.finished()) {
                        return -1;
                    }
                    int n = inflater.inflate(b, off, len);
                    if (n > 0) {
                        return n;
                    }
                    if (inflater.needsInput()) {
                        int r = in.read(ByteBuffer.wrap(input), next);
                        if (r <= 0) {
                            throw new IOException(file.getFileName() + " ends inside a gzip member");
                        }
                        next += r;
                        inflater.setInput(input, 0, r);
                    } else if (inflater.needsDictionary()) {
                        throw new IOException(file.getFileName() + ": a gzip member needs a dictionary");
                    }
                }
            } catch (DataFormatException e) {
                throw new IOException(file.getFileName() + " is not valid gzip: " + e.getMessage(), e);
            }
        }

        /** Where the member ends (after its CRC32 and size), once it has been read to its end. */
        long end() throws IOException {
            if (!inflater.finished()) {
                throw new IOException(file.getFileName() + ": a gzip member was not read to its end");
            }
            return next - inflater.getRemaining() + 8;
        }

        @Override
        public void close() {
            inflater.end();
        }
    }

    private boolean endsWithFooter(Path file, long size) throws IOException {
        if (size < footerMember.length) {
            return false;
        }
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer tail = ByteBuffer.allocate(footerMember.length);
            while (tail.hasRemaining() && in.read(tail, size - footerMember.length + tail.position()) > 0) {
                // reads the last bytes
            }
            return java.util.Arrays.equals(tail.array(), footerMember);
        }
    }

    /** Where the first gzip member of {@code file} ends. */
    static long firstMemberEnd(Path file) throws IOException {
        return firstMember(file).end();
    }

    /** How many packages a document this class wrote lists, from its header member. */
    public long packageCount(Path file) throws IOException {
        if (this == PACKAGES) {
            throw new IllegalStateException("the package list has no count; count its lines");
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" packages=\"([0-9]+)\"").matcher(firstMember(file).text());
        if (!m.find()) {
            throw new IOException(file.getFileName() + " has no package count in its first member");
        }
        return Long.parseLong(m.group(1));
    }

    record FirstMember(long end, String text) {
    }

    /** The first gzip member of {@code file}, the small header: inflates only that member. */
    static FirstMember firstMember(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(10);
            if (head.length < 10 || (head[0] & 0xff) != 0x1f || (head[1] & 0xff) != 0x8b || head[3] != 0) {
                throw new IOException(file.getFileName() + " does not start with a plain gzip member");
            }
            Inflater inflater = new Inflater(true);
            try {
                byte[] input = new byte[8192];
                byte[] output = new byte[8192];
                ByteArrayOutputStream text = new ByteArrayOutputStream();
                long consumed = 10;
                while (!inflater.finished()) {
                    if (inflater.needsInput()) {
                        int n = in.read(input);
                        if (n < 0) {
                            throw new IOException(file.getFileName() + " ends inside its first gzip member");
                        }
                        inflater.setInput(input, 0, n);
                        consumed += n;
                    }
                    int n = inflater.inflate(output);
                    if (text.size() < 1 << 16) {
                        text.write(output, 0, n);
                    }
                }
                // CRC32 and size follow the deflate data
                return new FirstMember(consumed - inflater.getRemaining() + 8, text.toString(StandardCharsets.UTF_8));
            } catch (DataFormatException e) {
                throw new IOException(file.getFileName() + " is not valid gzip: " + e.getMessage(), e);
            } finally {
                inflater.end();
            }
        }
    }

    private static byte[] member(String text) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + text.length());
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer, MessageDigest sha) throws IOException {
        sha.update(buffer.duplicate());
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    /** The content of a gzip stream of any number of members, for tests and readers of small documents. */
    static byte[] gunzip(Path file) throws IOException {
        try (InputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }
}
