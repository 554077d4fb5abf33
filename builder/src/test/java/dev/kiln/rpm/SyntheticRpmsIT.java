package dev.kiln.rpm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.repo.DirectoryRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synthetic packages other tests rely on are real to rpm and dnf. */
class SyntheticRpmsIT {

    @TempDir
    Path dir;

    @Test
    void rpmVerifiesThemAndDnfInstallsThem() throws Exception {
        SigningKey key = KeyGenerator.generate(dir.resolve("k.asc"), dir.resolve("k.pub"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
        long started = System.nanoTime();
        Path rpm = null;
        for (int i = 0; i < 50; i++) {
            rpm = SyntheticRpms.write(dir.resolve("rpms"), "synth", "1." + i, new RpmSigner(key));
        }
        System.out.println("50 synthetic signed RPMs in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        Files.writeString(dir.resolve("db-macros"), "");
        TestRpms.Run check = TestRpms.run("rpmkeys", "--define", "_pkgverify_level signature", "--dbpath", dir.resolve("db").toString(),
                "--import", dir.resolve("k.pub").toString());
        assertThat(check.exitCode()).as(check.output()).isZero();
        TestRpms.Run sig = TestRpms.run("rpmkeys", "--define", "_pkgverify_level signature", "--dbpath", dir.resolve("db").toString(),
                "--checksig", "-v", rpm.toString());
        assertThat(sig.exitCode()).as(sig.output()).isZero();
        assertThat(sig.output()).contains("Header V4 RSA/SHA256 Signature").contains("OK");

        DirectoryRepository repo = new DirectoryRepository(dir.resolve("repo"));
        repo.publish(List.of(rpm), key);
        Path root = Files.createTempDirectory(dir, "root");
        TestRpms.Run install = TestRpms.dnf(root, repo.location().toUri(), "install", "synth");
        assertThat(install.exitCode()).as(install.output()).isZero();
        assertThat(root.resolve("usr/share/synth/1.49.txt")).hasContent("synth 1.49");
    }
}
