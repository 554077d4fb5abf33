package dev.kiln.rpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.bc.BcPGPObjectFactory;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentVerifierBuilderProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SigningKeyTest {

    @TempDir
    static Path dir;
    static SigningKey key;

    @BeforeAll
    static void generate() {
        key = KeyGenerator.generate(dir.resolve("keys/kiln.sec.asc"), dir.resolve("keys/kiln.pub.asc"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
    }

    @Test
    void writesTheSecretKeyReadableByItsOwnerOnly() throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("keys/kiln.sec.asc")))).isEqualTo("rw-------");
        assertThat(Files.readString(dir.resolve("keys/kiln.pub.asc"))).isEqualTo(key.armoredPublicKey())
                .startsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----");
        try (var leftovers = Files.list(dir.resolve("keys"))) {
            assertThat(leftovers.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("kiln.sec.asc", "kiln.pub.asc");
        }
    }

    @Test
    void loadsWithThePassphraseAndNamesTheKey() {
        SigningKey loaded = SigningKey.load(dir.resolve("keys/kiln.sec.asc"), "pw".toCharArray());
        assertThat(loaded.keyId()).matches("[0-9A-F]{16}").isEqualTo(key.keyId());
        assertThat(loaded.fingerprint()).hasSize(40).endsWith(loaded.keyId());
        assertThat(loaded.userId()).isEqualTo("Kiln Test <t@kiln.dev>");
    }

    @Test
    void itsPublicHalfAloneVerifiesWhatTheKeySignedAndCannotSign() {
        SigningKey publicOnly = SigningKey.publicOnly(dir.resolve("keys/kiln.pub.asc"));
        assertThat(publicOnly.keyId()).isEqualTo(key.keyId());
        assertThat(publicOnly.armoredPublicKey()).isEqualTo(key.armoredPublicKey());
        byte[] data = "repomd".getBytes(StandardCharsets.UTF_8);
        assertThat(publicOnly.verifiesDetached(data, key.detachedSignature(data))).isTrue();
        assertThat(publicOnly.verifiesDetached("other".getBytes(StandardCharsets.UTF_8), key.detachedSignature(data))).isFalse();
        assertThatThrownBy(() -> publicOnly.detachedSignature(data)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is a public key only: it cannot sign");
        assertThatThrownBy(() -> SigningKey.publicOnly(dir.resolve("keys/kiln.sec.asc")))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageContaining("is not an ASCII-armored OpenPGP public key");
    }

    @Test
    void refusesAWrongPassphraseWithAHint() {
        Path file = dir.resolve("keys/kiln.sec.asc");
        assertThatThrownBy(() -> SigningKey.load(file, "nope".toCharArray()))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessage("wrong passphrase for signing key " + file + " (set KILN_SIGNING_PASSPHRASE)");
    }

    @Test
    void reportsAMissingKeyAsAnEnvironmentProblem() {
        Path file = dir.resolve("absent.asc");
        assertThatThrownBy(() -> SigningKey.load(file, new char[0]))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.ENVIRONMENT))
                .hasMessage("no signing key at " + file + ": run ./kiln key generate, or set KILN_SIGNING_KEY");
    }

    @Test
    void refusesAFileThatIsNotAKey() throws IOException {
        Path file = Files.writeString(dir.resolve("junk.asc"), "hello");
        assertThatThrownBy(() -> SigningKey.load(file, new char[0]))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageContaining(file.toString());
    }

    @Test
    void refusesToOverwriteAnExistingKey() throws IOException {
        String before = Files.readString(dir.resolve("keys/kiln.sec.asc"));
        assertThatThrownBy(() -> KeyGenerator.generate(dir.resolve("keys/kiln.sec.asc"), dir.resolve("keys/other.pub.asc"), "X", new char[0]))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageContaining("kiln.sec.asc already exists");
        assertThat(Files.readString(dir.resolve("keys/kiln.sec.asc"))).isEqualTo(before);
        assertThat(dir.resolve("keys/other.pub.asc")).doesNotExist();
    }

    @Test
    void detachedSignatureIsArmoredSha256AndVerifiesWithThePublicKey() throws Exception {
        byte[] data = "<repomd/>".getBytes(StandardCharsets.UTF_8);
        byte[] armored = key.detachedSignature(data);
        assertThat(new String(armored, StandardCharsets.US_ASCII)).startsWith("-----BEGIN PGP SIGNATURE-----");

        PGPSignature signature = ((PGPSignatureList) new BcPGPObjectFactory(
                PGPUtil.getDecoderStream(new ByteArrayInputStream(armored))).nextObject()).get(0);
        PGPPublicKeyRing ring = new PGPPublicKeyRing(PGPUtil.getDecoderStream(
                new ByteArrayInputStream(key.armoredPublicKey().getBytes(StandardCharsets.US_ASCII))), new org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator());
        assertThat(signature.getHashAlgorithm()).isEqualTo(HashAlgorithmTags.SHA256);
        assertThat(signature.getVersion()).isEqualTo(4);
        signature.init(new BcPGPContentVerifierBuilderProvider(), ring.getPublicKey(signature.getKeyID()));
        signature.update(data);
        assertThat(signature.verify()).isTrue();

        signature.init(new BcPGPContentVerifierBuilderProvider(), ring.getPublicKey(signature.getKeyID()));
        signature.update("<repomd />".getBytes(StandardCharsets.UTF_8));
        assertThat(signature.verify()).isFalse();
    }

    @Test
    void unprotectedKeyLoadsWithAnEmptyPassphrase() {
        SigningKey open = KeyGenerator.generate(dir.resolve("open.sec.asc"), dir.resolve("open.pub.asc"), "Open <o@kiln.dev>", new char[0]);
        assertThat(SigningKey.load(dir.resolve("open.sec.asc"), new char[0]).keyId()).isEqualTo(open.keyId());
    }

    @Test
    void keyTextFromTheEnvironmentLoadsAndSigns() throws Exception {
        String text = Files.readString(dir.resolve("keys/kiln.sec.asc"));
        // CI secret stores often add a trailing newline or CRLF line ends
        SigningKey fromText = SigningKey.fromArmored("\n" + text.replace("\n", "\r\n") + "\n", "pw".toCharArray(), "KILN_SIGNING_KEY");
        assertThat(fromText.keyId()).isEqualTo(key.keyId());
        assertThat(fromText.origin()).isEqualTo("KILN_SIGNING_KEY");

        byte[] data = "<repomd/>".getBytes(StandardCharsets.UTF_8);
        PGPSignature signature = ((PGPSignatureList) new BcPGPObjectFactory(
                PGPUtil.getDecoderStream(new ByteArrayInputStream(fromText.detachedSignature(data)))).nextObject()).get(0);
        PGPPublicKeyRing ring = new PGPPublicKeyRing(PGPUtil.getDecoderStream(new ByteArrayInputStream(
                Files.readAllBytes(dir.resolve("keys/kiln.pub.asc")))), new org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator());
        signature.init(new BcPGPContentVerifierBuilderProvider(), ring.getPublicKey(signature.getKeyID()));
        signature.update(data);
        assertThat(signature.verify()).isTrue();
    }

    @Test
    void keyTextWithAWrongPassphraseIsBadInputNamingTheVariable() throws IOException {
        String text = Files.readString(dir.resolve("keys/kiln.sec.asc"));
        assertThatThrownBy(() -> SigningKey.fromArmored(text, "nope".toCharArray(), "KILN_SIGNING_KEY"))
                .isInstanceOfSatisfying(KilnException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT);
                    assertThat(e.getCause()).isNull();
                })
                .hasMessage("wrong passphrase for signing key KILN_SIGNING_KEY (set KILN_SIGNING_PASSPHRASE)");
    }

    @Test
    void garbageKeyTextIsBadInputAndNeverEchoed() {
        String secretish = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQVYBGZzSECRETSECRETSECRET==\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----\n";
        for (String text : java.util.List.of(secretish, "SECRETSECRETSECRET", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nSECRETSECRETSECRET")) {
            assertThatThrownBy(() -> SigningKey.fromArmored(text, new char[0], "KILN_SIGNING_KEY"))
                    .isInstanceOfSatisfying(KilnException.class, e -> {
                        assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT);
                        assertThat(e.getCause()).isNull();
                    })
                    .hasMessageStartingWith("signing key KILN_SIGNING_KEY ")
                    .hasMessageNotContaining("SECRET")
                    .hasMessageNotContaining("lQVY");
        }
    }

    @Test
    void keyTextWithOnlyAPublicKeyIsBadInput() {
        assertThatThrownBy(() -> SigningKey.fromArmored(key.armoredPublicKey(), new char[0], "KILN_SIGNING_KEY"))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageContaining("KILN_SIGNING_KEY");
    }
}
