package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnsignedJarsTest {

    @TempDir
    Path dir;

    @Test
    void signatureFilesGoAndEveryOtherEntryStaysByteForByte() throws IOException {
        Map<String, String> entries = new TreeMap<>(Map.of(
                "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n\nName: a/B.class\nSHA-256-Digest: x\n",
                "META-INF/BC1024KE.SF", "sig", "META-INF/BC1024KE.DSA", "block", "META-INF/X.RSA", "rsa",
                "META-INF/versions/9/module-info.class", "module", "META-INF/services/x.SF", "not a signature",
                "a/B.class", "class bytes"));
        Path signed = jar(dir.resolve("lib/signed.jar"), entries);
        Path plain = jar(dir.resolve("lib/plain.jar"), Map.of("c/D.class", "d"));
        long plainModified = Files.getLastModifiedTime(plain).toMillis();

        UnsignedJars.main(new String[] {dir.resolve("lib").toString()});

        assertThat(UnsignedJars.signed(signed)).isFalse();
        Map<String, String> left = read(signed);
        entries.keySet().removeIf(n -> n.endsWith(".SF") && !n.contains("services") || n.endsWith(".DSA") || n.endsWith(".RSA"));
        assertThat(left).isEqualTo(entries);
        assertThat(Files.getLastModifiedTime(plain).toMillis()).as("an unsigned jar is left alone").isEqualTo(plainModified);
        assertThat(dir.resolve("lib")).isDirectoryNotContaining("glob:**.unsigned");
    }

    private static Path jar(Path file, Map<String, String> entries) throws IOException {
        Files.createDirectories(file.getParent());
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            for (var e : entries.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return file;
    }

    private static Map<String, String> read(Path file) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (var e : zip.stream().toList()) {
                entries.put(e.getName(), new String(zip.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        return entries;
    }
}
