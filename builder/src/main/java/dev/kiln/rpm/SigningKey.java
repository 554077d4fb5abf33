package dev.kiln.rpm;

import dev.kiln.KilnException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
 * An OpenPGP signing key loaded from an ASCII-armored secret key file and decrypted once, so that
 * signing many RPMs and the repository metadata in one run pays for the key derivation only once.
 * All signatures are V4, RSA with SHA-256: EL9's default crypto policy rejects SHA-1.
 */
public final class SigningKey {

    private final Path source;
    private final PGPSecretKeyRing ring;
    private final PGPPublicKey publicKey;
    private final PGPPrivateKey privateKey;

    private SigningKey(Path source, PGPSecretKeyRing ring, PGPPublicKey publicKey, PGPPrivateKey privateKey) {
        this.source = source;
        this.ring = ring;
        this.publicKey = publicKey;
        this.privateKey = privateKey;
    }

    /**
     * Loads and decrypts the key in {@code secretKeyFile}. An unprotected key accepts any passphrase.
     *
     * @throws KilnException ENVIRONMENT when the file is missing, BAD_INPUT when the passphrase is wrong
     *     or the file holds no usable signing key
     */
    public static SigningKey load(Path secretKeyFile, char[] passphrase) {
        PGPSecretKeyRing ring;
        try (InputStream in = PGPUtil.getDecoderStream(Files.newInputStream(secretKeyFile))) {
            ring = new BcPGPSecretKeyRing(in);
        } catch (NoSuchFileException e) {
            throw KilnException.environment(
                    "no signing key at " + secretKeyFile + ": run ./kiln key generate, or set KILN_SIGNING_KEY");
        } catch (IOException | PGPException | RuntimeException e) {
            throw new KilnException(KilnException.BAD_INPUT, "signing key " + secretKeyFile
                    + " is not an OpenPGP secret key (" + e.getMessage() + "): export it with gpg --armor --export-secret-keys", e);
        }
        PGPSecretKey secret = signingSecretKey(ring);
        if (secret == null) {
            throw KilnException.badInput("signing key " + secretKeyFile
                    + " holds no key that can sign: generate one with ./kiln key generate");
        }
        try {
            PGPPrivateKey privateKey = secret.extractPrivateKey(
                    new BcPBESecretKeyDecryptorBuilder(new BcPGPDigestCalculatorProvider())
                            .build(passphrase == null ? new char[0] : passphrase));
            if (privateKey == null) {
                throw KilnException.badInput("signing key " + secretKeyFile
                        + " has no secret part (a stub, e.g. on a smartcard): export the full secret key");
            }
            return new SigningKey(secretKeyFile, ring, secret.getPublicKey(), privateKey);
        } catch (PGPException e) {
            throw new KilnException(KilnException.BAD_INPUT,
                    "wrong passphrase for signing key " + secretKeyFile + " (set KILN_SIGNING_PASSPHRASE)", e);
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

    /** The file the key came from, for messages. */
    public Path source() {
        return source;
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
        List<PGPPublicKey> keys = new ArrayList<>();
        ring.getPublicKeys().forEachRemaining(keys::add);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ArmoredOutputStream armor = ArmoredOutputStream.builder().clearHeaders().build(bytes)) {
            new PGPPublicKeyRing(keys).encode(armor);
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

    /** A binary (unarmored) V4 signature packet over {@code data}, as rpm stores in its signature header. */
    byte[] binarySignature(byte[] data) {
        try {
            return signature(data).getEncoded();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private PGPSignature signature(byte[] data) {
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
