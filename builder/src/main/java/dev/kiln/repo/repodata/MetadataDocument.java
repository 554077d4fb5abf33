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
        long count = earlierCount + added.size();
        Path temp = Files.createTempFile(folder, "." + type, ".part");
        MessageDigest sha = Sha256.digest();
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(out, ByteBuffer.wrap(member(header.apply(count))), sha);
                if (earlier != null) {
                    copyPackageMembers(earlier, out, sha);
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
        long size = Files.size(earlier);
        long start = firstMemberEnd(earlier);
        long end = size - footerMember.length;
        if (end < start || !endsWithFooter(earlier, size)) {
            throw new IOException(earlier.getFileName() + " is not a document Kiln wrote (no footer member)");
        }
        try (FileChannel in = FileChannel.open(earlier, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            long position = start;
            while (position < end) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), end - position));
                int n = in.read(buffer, position);
                if (n < 0) {
                    throw new IOException(earlier + " ended early");
                }
                position += n;
                buffer.flip();
                writeFully(out, buffer, sha);
            }
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
