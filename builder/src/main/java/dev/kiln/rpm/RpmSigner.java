package dev.kiln.rpm;

import dev.kiln.KilnException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.eclipse.packager.rpm.RpmSignatureTag;
import org.eclipse.packager.rpm.Rpms;
import org.eclipse.packager.rpm.header.HeaderEntry;
import org.eclipse.packager.rpm.header.Headers;
import org.eclipse.packager.rpm.header.Type;
import org.eclipse.packager.rpm.parse.HeaderValue;
import org.eclipse.packager.rpm.parse.InputHeader;
import org.eclipse.packager.rpm.parse.RpmInputStream;

/**
 * Signs RPM files the way {@code rpmsign --addsign} of rpm 4.18 does: it adds a V4 RSA/SHA-256
 * signature over the main header (tag RSAHEADER) and keeps the digests already in the signature
 * header. The main header and payload are copied unchanged, so the payload compression (zstd,
 * xz, gzip) does not matter and is never decompressed.
 *
 * <p>Eclipse Packager's {@code RpmFileSignatureProcessor} writes only the legacy header+payload
 * signature (SIGPGP), which EL9 and rpm 4.18 do not need, and reads the whole payload into memory;
 * this signer reads only the headers.
 */
public final class RpmSigner {

    /** Tags a new signature replaces, so re-signing with another key leaves one signature, not two. */
    private static final Set<Integer> REPLACED_TAGS = Set.of(
            RpmSignatureTag.RSAHEADER.getValue(), RpmSignatureTag.DSAHEADER.getValue(),
            RpmSignatureTag.PGP.getValue(), 1005 /* GPG */, 1008 /* RESERVEDSPACE */,
            Rpms.IMMUTABLE_TAG_SIGNATURE);
    /** RESERVEDSPACE: zero bytes rpmbuild leaves in the signature header so signing can keep the file size. */
    private static final int TAG_RESERVED_SPACE = 1008;
    private static final int LEAD_SIZE = 96;

    private final SigningKey key;

    public RpmSigner(SigningKey key) {
        this.key = Objects.requireNonNull(key);
    }

    /**
     * Replaces {@code rpm} with a signed copy: the copy is written next to it, synced, then renamed
     * over it, so a crash leaves either the old or the new file.
     *
     * @throws KilnException BAD_INPUT when the file is not a readable RPM
     */
    public void sign(Path rpm) {
        Path temp = null;
        try {
            Layout layout = layout(rpm);
            byte[] mainHeader = readRange(rpm, layout.mainHeaderStart(), layout.mainHeaderLength());
            checkHeaderDigest(rpm, layout, mainHeader);
            byte[] signatureHeader = signatureHeader(layout, mainHeader, key.binarySignature(mainHeader));

            temp = Files.createTempFile(rpm.toAbsolutePath().getParent(), "." + rpm.getFileName() + ".", ".signing");
            try (FileChannel in = FileChannel.open(rpm, StandardOpenOption.READ);
                    FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                transferFully(in, 0, LEAD_SIZE, out);
                out.write(ByteBuffer.wrap(signatureHeader));
                transferFully(in, layout.mainHeaderStart(), in.size() - layout.mainHeaderStart(), out);
                out.force(true);
            }
            Files.setPosixFilePermissions(temp, Files.getPosixFilePermissions(rpm));
            Files.move(temp, rpm, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temp = null;
        } catch (IOException e) {
            throw new KilnException(KilnException.BAD_INPUT,
                    "cannot sign " + rpm + ": " + e.getMessage() + ": check that it is an RPM and its folder is writable", e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // the original file is untouched; a hidden leftover is the lesser problem
                }
            }
        }
    }

    /** What {@link #check} found. */
    public sealed interface Signature {
        /** A header signature of this signer's key that verifies. */
        record ByThisKey() implements Signature {
        }

        /** No OpenPGP header signature at all. */
        record Unsigned() implements Signature {
        }

        /** Signed, but by another key (its id), or a signature that does not verify (empty id: damaged or altered). */
        record Other(String keyId) implements Signature {
        }
    }

    /**
     * Checks {@code rpm}'s header signature (RSAHEADER, what rpm 4.18 checks first) against this
     * signer's key: the header covers the payload through its PAYLOADDIGEST, so a header signature
     * that verifies vouches for the whole package.
     */
    public Signature check(Path rpm) {
        try {
            Layout layout = layout(rpm);
            HeaderValue rsa = layout.signatureTags().get(RpmSignatureTag.RSAHEADER.getValue());
            if (rsa == null) {
                boolean anySignature = layout.signatureTags().containsKey(RpmSignatureTag.PGP.getValue())
                        || layout.signatureTags().containsKey(1005) // GPG (DSA), which the enum lacks
                        || layout.signatureTags().containsKey(RpmSignatureTag.DSAHEADER.getValue());
                return anySignature ? new Signature.Other("") : new Signature.Unsigned();
            }
            byte[] packet = (byte[]) rsa.getValue();
            byte[] mainHeader = readRange(rpm, layout.mainHeaderStart(), layout.mainHeaderLength());
            if (key.verifies(mainHeader, packet)) {
                return new Signature.ByThisKey();
            }
            String issuer = SigningKey.issuer(packet);
            return new Signature.Other(issuer.equals(key.keyId()) ? "" : issuer);
        } catch (IOException | RuntimeException e) {
            throw new KilnException(KilnException.BAD_INPUT, "not a readable RPM file: " + rpm + " (" + e.getMessage()
                    + "): rebuild it or remove it from the list", e);
        }
    }

    /**
     * Where things are in the file. {@code signatureHeaderSize} is the signature header without its
     * trailing padding (16 + 16 per index entry + store size), the size rpmsign keeps constant.
     */
    private record Layout(long signatureHeaderSize, Map<Integer, HeaderValue> signatureTags,
            long mainHeaderStart, long mainHeaderLength) {
    }

    private static Layout layout(Path rpm) throws IOException {
        try (InputStream raw = Files.newInputStream(rpm);
                RpmInputStream in = new RpmInputStream(new BufferedInputStream(raw))) {
            InputHeader<RpmSignatureTag> signature = in.getSignatureHeader();
            InputHeader<?> main = in.getPayloadHeader();
            if (signature.getStart() != LEAD_SIZE || main.getStart() != LEAD_SIZE + signature.getLength()) {
                throw new IOException("unexpected header layout");
            }
            ByteBuffer intro = ByteBuffer.wrap(readRange(rpm, LEAD_SIZE, 16));
            long size = 16 + 16L * intro.getInt(8) + intro.getInt(12);
            return new Layout(size, signature.getRawTags(), main.getStart(), main.getLength());
        }
    }

    /** rpm verifies the header against SHA256HEADER; refusing a mismatch here catches a misread header before it is signed. */
    private static void checkHeaderDigest(Path rpm, Layout layout, byte[] mainHeader) throws IOException {
        HeaderValue recorded = layout.signatureTags().get(RpmSignatureTag.SHA256HEADER.getValue());
        if (recorded != null && !recorded.getValue().equals(sha256Hex(mainHeader))) {
            throw new IOException("its header does not match its SHA256HEADER digest (corrupt file)");
        }
    }

    private static byte[] signatureHeader(Layout layout, byte[] mainHeader, byte[] rsaHeader) throws IOException {
        List<HeaderEntry> entries = new ArrayList<>();
        for (HeaderValue value : layout.signatureTags().values()) {
            if (!REPLACED_TAGS.contains(value.getTag())) {
                entries.add(copy(value));
            }
        }
        // Packages from old rpmbuild versions lack the header digest; rpmsign adds it, and rpm verifies with it.
        if (!layout.signatureTags().containsKey(RpmSignatureTag.SHA256HEADER.getValue())) {
            byte[] hex = (sha256Hex(mainHeader) + "\0").getBytes(StandardCharsets.US_ASCII);
            entries.add(new HeaderEntry(Type.STRING, RpmSignatureTag.SHA256HEADER.getValue(), 1, hex, null));
        }
        entries.add(new HeaderEntry(Type.BLOB, RpmSignatureTag.RSAHEADER.getValue(), rsaHeader.length, rsaHeader, null));

        // Like rpmsign, spend the reserved space on the signature so the unpadded header keeps its
        // size: then the file keeps its size and everything after the signature header its offset.
        long target = layout.signatureHeaderSize();
        ByteBuffer withoutReserve = render(entries, -1);
        int reserved = (int) (target - withoutReserve.remaining() - 16);
        for (int attempt = 0; attempt < 4 && reserved > 0; attempt++) {
            ByteBuffer withReserve = render(entries, reserved);
            if (withReserve.remaining() == target) {
                return padded(withReserve);
            }
            reserved -= (int) (withReserve.remaining() - target);
        }
        return padded(withoutReserve);
    }

    /** Renders the signature header with its immutable region, unpadded. */
    private static ByteBuffer render(List<HeaderEntry> entries, int reserved) throws IOException {
        List<HeaderEntry> all = new ArrayList<>(entries);
        if (reserved > 0) {
            all.add(new HeaderEntry(Type.BLOB, TAG_RESERVED_SPACE, reserved, new byte[reserved], null));
        }
        return Headers.render(all.toArray(HeaderEntry[]::new), true, Rpms.IMMUTABLE_TAG_SIGNATURE);
    }

    /** Pads to 8 bytes: the main header must start aligned. */
    private static byte[] padded(ByteBuffer header) {
        int length = header.remaining();
        byte[] bytes = new byte[length + Rpms.padding(length)];
        header.get(bytes, 0, length);
        return bytes;
    }

    /** Re-encodes a parsed signature header value into the bytes rpm stores for it. */
    private static HeaderEntry copy(HeaderValue value) {
        Object v = value.getValue();
        Object[] items = v instanceof Object[] array ? array : new Object[] {v};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (value.getType()) {
            case BLOB -> out.writeBytes((byte[]) v);
            case STRING -> writeString(out, (String) v);
            case STRING_ARRAY, I18N_STRING -> {
                for (Object item : items) {
                    writeString(out, (String) item);
                }
            }
            case CHAR, BYTE -> {
                for (Object item : items) {
                    out.write(item instanceof Character c ? c : (Byte) item);
                }
            }
            case SHORT -> {
                for (Object item : items) {
                    out.writeBytes(ByteBuffer.allocate(2).putShort((Short) item).array());
                }
            }
            case INT -> {
                for (Object item : items) {
                    out.writeBytes(ByteBuffer.allocate(4).putInt((Integer) item).array());
                }
            }
            case LONG -> {
                for (Object item : items) {
                    out.writeBytes(ByteBuffer.allocate(8).putLong((Long) item).array());
                }
            }
            case NULL -> {
            }
            default -> throw new IllegalStateException("signature header tag " + value.getTag() + " has unknown type");
        }
        return new HeaderEntry(value.getType(), value.getTag(), value.getCount(), out.toByteArray(), null);
    }

    private static void writeString(ByteArrayOutputStream out, String value) {
        out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    private static byte[] readRange(Path file, long start, long length) throws IOException {
        if (length > Integer.MAX_VALUE - 16) {
            throw new IOException("header larger than 2 GiB");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) length);
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            while (buffer.hasRemaining()) {
                if (in.read(buffer, start + buffer.position()) < 0) {
                    throw new IOException("file ends inside its header");
                }
            }
        }
        return buffer.array();
    }

    private static void transferFully(FileChannel in, long position, long count, FileChannel out) throws IOException {
        long done = 0;
        while (done < count) {
            long n = in.transferTo(position + done, count - done, out);
            if (n <= 0) {
                throw new IOException("file ends early");
            }
            done += n;
        }
    }

    static String sha256Hex(byte[] data) {
        return dev.kiln.Sha256.hex(data);
    }
}
