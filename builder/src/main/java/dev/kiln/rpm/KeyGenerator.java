package dev.kiln.rpm;

import dev.kiln.KilnException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Date;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.operator.PBESecretKeyEncryptor;
import org.bouncycastle.openpgp.operator.bc.BcPBESecretKeyEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPKeyPair;

/** Generates Kiln's RPM signing key: one RSA 3072 primary key that certifies and signs, no subkeys. */
public final class KeyGenerator {

    private static final int RSA_BITS = 3072;

    private KeyGenerator() {
    }

    /**
     * Writes a new key pair: the armored secret key (mode 0600) and the armored public key.
     * An empty passphrase leaves the secret key unprotected (for CI, where the file is the secret).
     *
     * @return the new key, already decrypted
     * @throws KilnException BAD_INPUT when either file already exists or cannot be written
     */
    public static SigningKey generate(Path secretKeyFile, Path publicKeyFile, String userId, char[] passphrase) {
        for (Path file : new Path[] {secretKeyFile, publicKeyFile}) {
            if (Files.exists(file)) {
                throw KilnException.badInput("key file " + file + " already exists: move it away or choose another path");
            }
        }
        byte[] secret;
        try {
            secret = armoredSecretKey(userId, passphrase);
        } catch (PGPException | IOException e) {
            throw new IllegalStateException("generating an RSA " + RSA_BITS + " key failed", e);
        }
        writeNew(secretKeyFile, secret);
        SigningKey key = SigningKey.load(secretKeyFile, passphrase);
        writeNew(publicKeyFile, key.armoredPublicKey().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return key;
    }

    private static byte[] armoredSecretKey(String userId, char[] passphrase) throws PGPException, IOException {
        RSAKeyPairGenerator rsa = new RSAKeyPairGenerator();
        rsa.init(new RSAKeyGenerationParameters(BigInteger.valueOf(0x10001), new SecureRandom(), RSA_BITS, 80));
        BcPGPKeyPair pair = new BcPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, rsa.generateKeyPair(), new Date());

        PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
        hashed.setKeyFlags(false, KeyFlags.CERTIFY_OTHER | KeyFlags.SIGN_DATA);
        hashed.setPreferredHashAlgorithms(false, new int[] {HashAlgorithmTags.SHA256, HashAlgorithmTags.SHA512});
        hashed.setPreferredSymmetricAlgorithms(false, new int[] {SymmetricKeyAlgorithmTags.AES_256});

        var digests = new BcPGPDigestCalculatorProvider();
        PBESecretKeyEncryptor encryptor = passphrase == null || passphrase.length == 0
                ? null
                : new BcPBESecretKeyEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256,
                        digests.get(HashAlgorithmTags.SHA256), 0x60).build(passphrase);
        PGPKeyRingGenerator rings = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, pair, userId,
                digests.get(HashAlgorithmTags.SHA1), hashed.generate(), null,
                new BcPGPContentSignerBuilder(PublicKeyAlgorithmTags.RSA_GENERAL, HashAlgorithmTags.SHA256), encryptor);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ArmoredOutputStream armor = ArmoredOutputStream.builder().clearHeaders().build(bytes)) {
            rings.generateSecretKeyRing().encode(armor);
        }
        return bytes.toByteArray();
    }

    /** Writes a temp file (0600 from birth, so the secret never sits world-readable), fsyncs, then links it into place, which fails if the target appeared meanwhile. */
    private static void writeNew(Path target, byte[] content) {
        Path dir = target.toAbsolutePath().getParent();
        Path temp = null;
        try {
            Files.createDirectories(dir);
            temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.write(java.nio.ByteBuffer.wrap(content));
                channel.force(true);
            }
            Files.createLink(target, temp);
        } catch (FileAlreadyExistsException e) {
            throw KilnException.badInput("key file " + target + " already exists: move it away or choose another path");
        } catch (AccessDeniedException e) {
            throw KilnException.badInput("cannot write key file " + target + ": folder " + dir + " is not writable");
        } catch (IOException e) {
            throw new KilnException(KilnException.BAD_INPUT, "cannot write key file " + target + ": " + e.getMessage(), e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a leftover hidden temp file is harmless; the key is in place or the error above says why not
                }
            }
        }
    }
}
