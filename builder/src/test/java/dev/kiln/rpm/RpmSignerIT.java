package dev.kiln.rpm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Signs real rpmbuild output and checks it with the real rpmkeys, as an EL host would. */
class RpmSignerIT {

    @TempDir
    static Path dir;
    static SigningKey key;
    static SigningKey otherKey;
    static Path rpmdb;

    @BeforeAll
    static void keys() throws IOException {
        key = KeyGenerator.generate(dir.resolve("kiln.sec.asc"), dir.resolve("kiln.pub.asc"), "Kiln Test <test@kiln.dev>", "s3cret".toCharArray());
        otherKey = KeyGenerator.generate(dir.resolve("other.sec.asc"), dir.resolve("other.pub.asc"), "Other <o@kiln.dev>", new char[0]);
        rpmdb = Files.createDirectory(dir.resolve("rpmdb"));
        TestRpms.Run imported = TestRpms.run("rpmkeys", "--dbpath", rpmdb.toString(), "--import", dir.resolve("kiln.pub.asc").toString());
        assertThat(imported.exitCode()).as(imported.output()).isZero();
    }

    private static TestRpms.Run checksig(Path rpm) throws IOException {
        return TestRpms.run("rpmkeys", "--dbpath", rpmdb.toString(), "--checksig", "-v",
                "--define", "_pkgverify_level signature", rpm.toString());
    }

    private static String query(Path rpm) throws IOException {
        return TestRpms.run("rpm", "--dbpath", rpmdb.toString(), "-qp", "--nosignature", "--qf",
                "%{RSAHEADER:pgpsig}|%{SIGPGP:pgpsig}|%{SHA256HEADER}|%{PAYLOADDIGEST}|%{SIGSIZE}", rpm.toString()).output();
    }

    @ParameterizedTest
    @ValueSource(strings = {"w19.zstdio", "w6.xzdio", "w9.gzdio"})
    void signsWithAnRsaSha256HeaderSignatureThatRpmkeysAccepts(String payload) throws IOException {
        Path rpm = TestRpms.binary(Files.createTempDirectory(dir, "p"), "kiln-sign", "1.0", payload);
        String before = query(rpm);
        long sizeBefore = Files.size(rpm);
        assertThat(checksig(rpm).exitCode()).isNotZero();

        new RpmSigner(key).sign(rpm);

        TestRpms.Run check = checksig(rpm);
        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.output()).contains("Header V4 RSA/SHA256 Signature, key ID " + key.keyId().substring(8).toLowerCase() + ": OK");
        String after = query(rpm);
        assertThat(after).startsWith("RSA/SHA256, ").contains("Key ID " + key.keyId().toLowerCase());
        // Like rpmsign: no legacy header+payload signature, digests and size untouched.
        assertThat(after.split("\\|", 2)[1]).isEqualTo(before.split("\\|", 2)[1]);
        assertThat(after).contains("|(none)|");
        assertThat(Files.size(rpm)).isEqualTo(sizeBefore);
        assertThat(RpmFile.read(rpm).signed()).isTrue();
    }

    @Test
    void resigningWithAnotherKeyReplacesTheSignature() throws IOException {
        Path rpm = TestRpms.binary(Files.createTempDirectory(dir, "r"), "kiln-resign", "1.0", "w19.zstdio");
        new RpmSigner(otherKey).sign(rpm);
        assertThat(checksig(rpm).exitCode()).isNotZero();
        new RpmSigner(key).sign(rpm);
        assertThat(checksig(rpm).exitCode()).isZero();
    }

    @Test
    void tamperedOrForeignRpmsFailTheCheck() throws IOException {
        Path work = Files.createTempDirectory(dir, "t");
        Path signed = TestRpms.binary(work, "kiln-tamper", "1.0", "w19.zstdio");
        Path unsigned = Files.copy(signed, work.resolve("unsigned.rpm"));
        new RpmSigner(key).sign(signed);
        assertThat(checksig(signed).exitCode()).isZero();

        Path foreign = Files.copy(unsigned, work.resolve("foreign.rpm"));
        new RpmSigner(otherKey).sign(foreign);

        Path payloadFlipped = Files.copy(signed, work.resolve("payload.rpm"));
        flipByte(payloadFlipped, Files.size(payloadFlipped) - 20);

        Path headerFlipped = Files.copy(signed, work.resolve("header.rpm"));
        flipByte(headerFlipped, mainHeaderOffset(signed) + 200);

        for (Path bad : new Path[] {unsigned, foreign, payloadFlipped, headerFlipped}) {
            TestRpms.Run check = checksig(bad);
            assertThat(check.exitCode()).as(bad.getFileName() + ": " + check.output()).isNotZero();
        }
    }

    @Test
    void writesWhatRpmsignWrites() throws IOException {
        Path work = Files.createTempDirectory(dir, "cmp");
        Path gnupg = Files.createTempDirectory(dir, "gpg");
        Files.setPosixFilePermissions(gnupg, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        try {
            TestRpms.Run imported = TestRpms.run("gpg", "--homedir", gnupg.toString(), "--batch", "--import", dir.resolve("other.sec.asc").toString());
            assertThat(imported.exitCode()).as(imported.output()).isZero();
            Path byRpmsign = TestRpms.binary(work, "kiln-compare", "1.0", "w19.zstdio");
            Path byKiln = Files.copy(byRpmsign, work.resolve("kiln.rpm"));

            long start = System.nanoTime();
            TestRpms.Run rpmsign = TestRpms.run("rpmsign", "--addsign", "--define", "_gpg_path " + gnupg, "--define", "__gpg /usr/bin/gpg",
                    "--define", "_gpg_name " + otherKey.keyId(), "--define", "_gpg_digest_algo sha256", byRpmsign.toString());
            long rpmsignNanos = System.nanoTime() - start;
            assertThat(rpmsign.exitCode()).as(rpmsign.output()).isZero();
            start = System.nanoTime();
            new RpmSigner(otherKey).sign(byKiln);
            long kilnNanos = System.nanoTime() - start;
            System.out.printf("signing one small RPM: rpmsign %.1f ms, RpmSigner %.1f ms%n", rpmsignNanos / 1e6, kilnNanos / 1e6);

            String ours = signatureLayout(byKiln);
            String theirs = signatureLayout(byRpmsign);
            int ourSignature = rsaHeaderLength(ours);
            int theirSignature = rsaHeaderLength(theirs);
            if (ourSignature == theirSignature) {
                assertThat(ours).isEqualTo(theirs);
                assertThat(Files.size(byKiln)).isEqualTo(Files.size(byRpmsign));
            } else {
                // An RSA signature value with leading zero bits is a one byte shorter MPI, in rpmsign's output as in ours:
                // then only that blob and the header length (alignment padding) may differ.
                assertThat(Math.abs(ourSignature - theirSignature)).as(ours + " vs " + theirs).isEqualTo(1);
                assertThat(normalizeSignatureLength(ours)).isEqualTo(normalizeSignatureLength(theirs));
                assertThat(Math.abs(Files.size(byKiln) - Files.size(byRpmsign))).isLessThanOrEqualTo(8);
            }
            // The signature time differs by design; everything else rpm reports must be the same.
            assertThat(query(byKiln).replaceFirst(", [^,]+, Key ID", ", Key ID"))
                    .isEqualTo(query(byRpmsign).replaceFirst(", [^,]+, Key ID", ", Key ID"));
            long mainHeader = mainHeaderOffset(byKiln);
            if (ourSignature == theirSignature) {
                assertThat(mainHeaderOffset(byRpmsign)).isEqualTo(mainHeader);
            }
            assertThat(tail(byKiln, mainHeader)).isEqualTo(tail(byRpmsign, mainHeaderOffset(byRpmsign)));
        } finally {
            TestRpms.run("gpgconf", "--homedir", gnupg.toString(), "--kill", "all");
        }
    }

    /** Tag/type/count of every signature header entry, and the header's padded length. */
    private static String signatureLayout(Path rpm) throws IOException {
        try (var in = new org.eclipse.packager.rpm.parse.RpmInputStream(Files.newInputStream(rpm))) {
            var header = in.getSignatureHeader();
            StringBuilder layout = new StringBuilder("length=" + header.getLength());
            new java.util.TreeMap<>(header.getRawTags()).forEach((tag, value) ->
                    layout.append(' ').append(tag).append('/').append(value.getType()).append('/').append(value.getCount()));
            return layout.toString();
        }
    }

    private static byte[] tail(Path file, long from) throws IOException {
        byte[] all = Files.readAllBytes(file);
        return java.util.Arrays.copyOfRange(all, (int) from, all.length);
    }

    @Test
    void refusesAFileThatIsNotAnRpmAndLeavesItAlone() throws IOException {
        Path work = Files.createTempDirectory(dir, "x");
        Path notRpm = Files.writeString(work.resolve("notes.rpm"), "not an rpm");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RpmSigner(key).sign(notRpm))
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(dev.kiln.KilnException.BAD_INPUT))
                .hasMessageContaining(notRpm.toString());
        assertThat(notRpm).hasContent("not an rpm");
        try (var files = Files.list(work)) {
            assertThat(files).containsExactly(notRpm);
        }
    }

    @Test
    void readsNevraAndSourceFlag() throws IOException {
        Path work = Files.createTempDirectory(dir, "n");
        RpmFile binary = RpmFile.read(TestRpms.binary(work, "kiln-read", "2.5", "w6.xzdio"));
        assertThat(binary.nevra()).hasToString("kiln-read-2.5-1.noarch");
        assertThat(binary.source()).isFalse();
        assertThat(binary.signed()).isFalse();
        assertThat(binary.files()).extracting(RpmFile.Entry::path).contains("/usr/share/kiln-read/2.5.txt");
        RpmFile source = RpmFile.read(TestRpms.source(work, "kiln-read", "2.5"));
        assertThat(source.source()).isTrue();
        assertThat(source.nevra()).hasToString("kiln-read-2.5-1.src");
    }

    private static long mainHeaderOffset(Path rpm) throws IOException {
        try (var in = new org.eclipse.packager.rpm.parse.RpmInputStream(Files.newInputStream(rpm))) {
            return in.getPayloadHeader().getStart();
        }
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b ^ 0x01);
        }
    }

    /** The length of the RSAHEADER (268) blob in a {@link #signatureLayout} string. */
    private static int rsaHeaderLength(String layout) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" 268/BLOB/(\\d+)").matcher(layout);
        assertThat(m.find()).as("RSAHEADER present in " + layout).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static String normalizeSignatureLength(String layout) {
        return layout.replaceFirst("^length=\\d+", "length=n").replaceFirst(" 268/BLOB/\\d+", " 268/BLOB/n");
    }
}
