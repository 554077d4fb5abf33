package dev.kiln.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Run by the launcher once per extracted layout: removes the JAR signatures of the libraries in
 * {@code lib/} (BouncyCastle's and JGit's jars are signed). The JDK's AOT cache archives no class
 * of a signed jar and the JVM checks each signed class it loads, which cost every command that
 * signs or verifies about 0.3 s of start-up here. Kiln uses BouncyCastle's lightweight API, not a
 * JCE provider, so nothing relies on the signatures; the jars come from Maven's checksummed
 * resolution at build time.
 *
 * <p>Deliberately free of Spring and of the rest of Kiln: it runs before the application does.
 */
public final class UnsignedJars {

    private UnsignedJars() {
    }

    public static void main(String[] args) throws IOException {
        try (Stream<Path> jars = Files.list(Path.of(args[0]))) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                if (signed(jar)) {
                    unsign(jar);
                }
            }
        }
    }

    static boolean signatureFile(String name) {
        return name.startsWith("META-INF/") && name.indexOf('/', "META-INF/".length()) < 0
                && Stream.of(".SF", ".RSA", ".DSA", ".EC").anyMatch(name::endsWith);
    }

    static boolean signed(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().anyMatch(e -> signatureFile(e.getName()));
        }
    }

    /** Rewrites {@code jar} without its signature files, beside it and then renamed over it. */
    static void unsign(Path jar) throws IOException {
        Path next = jar.resolveSibling(jar.getFileName() + ".unsigned");
        try (ZipFile zip = new ZipFile(jar.toFile()); ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(next))) {
            for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
                ZipEntry entry = entries.nextElement();
                if (signatureFile(entry.getName())) {
                    continue;
                }
                ZipEntry copy = new ZipEntry(entry.getName());
                copy.setTime(entry.getTime());
                out.putNextEntry(copy);
                try (InputStream in = zip.getInputStream(entry)) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
        Files.move(next, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
