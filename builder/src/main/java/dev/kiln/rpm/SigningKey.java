package dev.kiln.rpm;

import dev.kiln.KilnException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.BCPGOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKey;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.bc.BcPGPSecretKeyRing;
import org.bouncycastle.openpgp.operator.bc.BcPBESecretKeyDecryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;

/**
 * An OpenPGP signing key loaded from an ASCII-armored secret key (a file, or the text itself as
 * CI secret stores hand it over) and decrypted once, so that
 * signing many RPMs and the repository metadata in one run pays for the key derivation only once.
 * All signatures are V4, RSA with SHA-256: EL9's default crypto policy rejects SHA-1.
 */
public final class SigningKey {

    private final String origin;
    private final PGPPublicKeyRing ring;
    private final PGPPublicKey publicKey;
    /** Null for a key loaded from its public half only: it verifies, it does not sign. */
    private final PGPPrivateKey privateKey;

    private SigningKey(String origin, PGPPublicKeyRing ring, PGPPublicKey publicKey, PGPPrivateKey privateKey) {
        this.origin = origin;
        this.ring = ring;
        this.publicKey = publicKey;
        this.privateKey = privateKey;
    }

    /**
     * Loads the public key in {@code publicKeyFile} (ASCII-armored, as {@code key show} prints it and
     * {@code RPM-GPG-KEY-kiln} holds it), for a host that checks what was published and must not hold
     * the secret key: it verifies signatures of the primary key and cannot sign.
     *
     * @throws KilnException BAD_INPUT when the file is missing or holds no OpenPGP public key
     */
    public static SigningKey publicOnly(Path publicKeyFile) {
        try (InputStream in = PGPUtil.getDecoderStream(Files.newInputStream(publicKeyFile))) {
            PGPPublicKeyRing ring = new org.bouncycastle.openpgp.bc.BcPGPPublicKeyRing(in);
            return new SigningKey(publicKeyFile.toString(), ring, ring.getPublicKey(), null);
        } catch (NoSuchFileException e) {
            throw KilnException.badInput("no public key file at " + publicKeyFile + ": export it with ./kiln key show, or use the "
                    + "repository's RPM-GPG-KEY-kiln");
        } catch (IOException | RuntimeException e) {
            throw KilnException.badInput(publicKeyFile + " is not an ASCII-armored OpenPGP public key (" + e.getMessage()
                    + "): export it with ./kiln key show");
        }
    }

    /**
     * Loads and decrypts the key in {@code secretKeyFile}. An unprotected key accepts any passphrase.
     *
     * @throws KilnException ENVIRONMENT when the file is missing, BAD_INPUT when the passphrase is wrong
     *     or the file holds no usable signing key
     */
    public static SigningKey load(Path secretKeyFile, char[] passphrase) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(secretKeyFile);
        } catch (NoSuchFileException e) {
            throw KilnException.environment(
                    "no signing key at " + secretKeyFile + ": run ./kiln key generate, or set KILN_SIGNING_KEY");
        } catch (IOException e) {
            throw new KilnException(KilnException.BAD_INPUT, "cannot read signing key " + secretKeyFile + ": " + e.getMessage(), e);
        }
        return decode(bytes, passphrase, secretKeyFile.toString(), true);
    }

    /**
     * Loads and decrypts an ASCII-armored secret key given as text, as CI systems hand it over from
     * their secret store; nothing is written to disk. {@code origin} names where the text came from
     * (e.g. {@code KILN_SIGNING_KEY}) for messages, which never quote the text itself.
     *
     * @throws KilnException BAD_INPUT when the passphrase is wrong or the text holds no usable signing key
     */
    public static SigningKey fromArmored(String text, char[] passphrase, String origin) {
        return decode(text.strip().getBytes(StandardCharsets.US_ASCII), passphrase, origin, false);
    }

    /**
     * The common part of {@link #load} and {@link #fromArmored}. Parser messages are quoted only for
     * files: for key text they could carry fragments of the secret.
     */
    private static SigningKey decode(byte[] bytes, char[] passphrase, String origin, boolean quoteParserErrors) {
        PGPSecretKeyRing ring;
        try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(bytes))) {
            ring = new BcPGPSecretKeyRing(in);
        } catch (IOException | PGPException | RuntimeException e) {
            String hint = ": export it with gpg --armor --export-secret-keys";
            if (quoteParserErrors) {
                throw new KilnException(KilnException.BAD_INPUT,
                        "signing key " + origin + " is not an OpenPGP secret key (" + e.getMessage() + ")" + hint, e);
            }
            throw KilnException.badInput("signing key " + origin + " is not an OpenPGP secret key" + hint);
        }
        PGPSecretKey secret = signingSecretKey(ring);
        if (secret == null) {
            throw KilnException.badInput("signing key " + origin
                    + " holds no key that can sign: generate one with ./kiln key generate");
        }
        try {
            PGPPrivateKey privateKey = secret.extractPrivateKey(
                    new BcPBESecretKeyDecryptorBuilder(new BcPGPDigestCalculatorProvider())
                            .build(passphrase == null ? new char[0] : passphrase));
            if (privateKey == null) {
                throw KilnException.badInput("signing key " + origin
                        + " has no secret part (a stub, e.g. on a smartcard): export the full secret key");
            }
            List<PGPPublicKey> publicKeys = new ArrayList<>();
            ring.getPublicKeys().forEachRemaining(publicKeys::add);
            return new SigningKey(origin, new PGPPublicKeyRing(publicKeys), secret.getPublicKey(), privateKey);
        } catch (PGPException e) {
            // The cause stays off for key text: nothing from decrypting it belongs in a log.
            throw quoteParserErrors
                    ? new KilnException(KilnException.BAD_INPUT, "wrong passphrase for signing key " + origin + " (set KILN_SIGNING_PASSPHRASE)", e)
                    : KilnException.badInput("wrong passphrase for signing key " + origin + " (set KILN_SIGNING_PASSPHRASE)");
        }
    }

    /** Prefers the primary key (what rpm and dnf expect the header signature to name), else a signing subkey. */
    private static PGPSecretKey signingSecretKey(PGPSecretKeyRing ring) {
        PGPSecretKey primary = ring.getSecretKey();
        if (primary != null && primary.isSigningKey() && !primary.isPrivateKeyEmpty()) {
            return primary;
        }
        for (PGPSecretKey key : ring) {
            if (key.isSigningKey() && !key.isPrivateKeyEmpty()) {
                return key;
            }
        }
        return null;
    }

    /** Where the key came from, for messages: its file, or the variable that held its text. */
    public String origin() {
        return origin;
    }

    /** The 64-bit key id of the signing key as 16 upper-case hex digits, as {@code rpm -qi gpg-pubkey} shows its tail. */
    public String keyId() {
        return String.format(Locale.ROOT, "%016X", publicKey.getKeyID());
    }

    /** The fingerprint of the signing key, upper-case hex. */
    public String fingerprint() {
        return HexFormat.of().withUpperCase().formatHex(publicKey.getFingerprint());
    }

    /** The user id of the primary key, or {@code ""}. */
    public String userId() {
        var ids = ring.getPublicKey().getUserIDs();
        return ids.hasNext() ? ids.next() : "";
    }

    /** The public key ring, ASCII-armored: what users import with {@code rpm --import} and dnf fetches as gpgkey. */
    public String armoredPublicKey() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ArmoredOutputStream armor = ArmoredOutputStream.builder().clearHeaders().build(bytes)) {
            ring.encode(armor);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toString(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** An ASCII-armored detached signature of {@code data}, as dnf checks {@code repomd.xml.asc} with repo_gpgcheck=1. */
    public byte[] detachedSignature(byte[] data) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ArmoredOutputStream armor = ArmoredOutputStream.builder().clearHeaders().build(bytes);
                BCPGOutputStream out = new BCPGOutputStream(armor)) {
            signature(data).encode(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Whether {@code packet} (a binary OpenPGP signature, as rpm stores it) is this key's valid
     * signature over {@code data}; the key id of a signature by another key is in {@link #issuer}.
     */
    boolean verifies(byte[] data, byte[] packet) {
        try {
            PGPSignature signature = parseSignature(packet);
            if (signature == null || signature.getKeyID() != publicKey.getKeyID()) {
                return false;
            }
            signature.init(new org.bouncycastle.openpgp.operator.bc.BcPGPContentVerifierBuilderProvider(), publicKey);
            signature.update(data);
            return signature.verify();
        } catch (PGPException | IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether {@code armored} (an ASCII-armored detached signature, like repomd.xml.asc) is this key's valid signature over {@code data}. */
    public boolean verifiesDetached(byte[] data, byte[] armored) {
        try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(armored))) {
            return verifies(data, in.readAllBytes());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The key id ({@code %016X}) that made signature {@code packet}, or empty when it does not parse. */
    static String issuer(byte[] packet) {
        try {
            PGPSignature signature = parseSignature(packet);
            return signature == null ? "" : String.format(Locale.ROOT, "%016X", signature.getKeyID());
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static PGPSignature parseSignature(byte[] packet) throws IOException {
        Object o = new org.bouncycastle.openpgp.bc.BcPGPObjectFactory(packet).nextObject();
        if (o instanceof org.bouncycastle.openpgp.PGPSignatureList list && !list.isEmpty()) {
            return list.get(0);
        }
        return null;
    }

    /** A binary (unarmored) V4 signature packet over {@code data}, as rpm stores in its signature header. */
    byte[] binarySignature(byte[] data) {
        try {
            return signature(data).getEncoded();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private PGPSignature signature(byte[] data) {
        if (privateKey == null) {
            throw new IllegalStateException("key " + keyId() + " from " + origin + " is a public key only: it cannot sign");
        }
        try {
            PGPSignatureGenerator generator = new PGPSignatureGenerator(
                    new BcPGPContentSignerBuilder(publicKey.getAlgorithm(), HashAlgorithmTags.SHA256), publicKey);
            generator.init(PGPSignature.BINARY_DOCUMENT, privateKey);
            // Issuer fingerprint and key id let rpm and dnf find the key; gpg writes both as well.
            PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
            hashed.setSignatureCreationTime(true, new Date());
            hashed.setIssuerFingerprint(false, publicKey);
            generator.setHashedSubpackets(hashed.generate());
            PGPSignatureSubpacketGenerator unhashed = new PGPSignatureSubpacketGenerator();
            unhashed.setIssuerKeyID(false, publicKey.getKeyID());
            generator.setUnhashedSubpackets(unhashed.generate());
            generator.update(data);
            return generator.generate();
        } catch (PGPException e) {
            throw new IllegalStateException("signing with key " + keyId() + " failed", e);
        }
    }
}
