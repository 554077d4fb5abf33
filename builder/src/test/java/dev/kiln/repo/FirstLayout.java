package dev.kiln.repo;

import dev.kiln.repo.repodata.Repodata;
import dev.kiln.rpm.SigningKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * A repository in the first layout, as Kiln wrote it before packages lived once: {@code location}
 * a symlink to {@code <location>.snapshots/<n>/}, each snapshot a whole repository (its own
 * {@code Packages/}, {@code SRPMS/}, {@code repodata/} written by {@link Repodata} and signed, the
 * public key, the lease file and the retained-metadata record).
 */
final class FirstLayout {

    private FirstLayout() {
    }

    /** Makes snapshot {@code number} holding {@code rpms} and points {@code location} at it. */
    static Path make(Path location, int number, List<Path> rpms, SigningKey key) throws IOException {
        Path snapshots = location.resolveSibling(location.getFileName() + ".snapshots");
        Path snapshot = Files.createDirectories(snapshots.resolve(Integer.toString(number)));
        Path packages = Files.createDirectories(snapshot.resolve("Packages"));
        Files.createDirectories(snapshot.resolve("SRPMS"));
        Files.write(snapshot.resolve(".kiln-lease"), new byte[0]);
        List<Path> copied = new java.util.ArrayList<>();
        for (Path rpm : rpms) {
            copied.add(Files.copy(rpm, packages.resolve(rpm.getFileName())));
        }
        Path repodata = Files.createDirectories(snapshot.resolve("repodata"));
        Repodata.Written written = Repodata.write(null, null, Repodata.read(copied, p -> "Packages/" + p.getFileName()), repodata,
                Instant.now());
        Files.write(repodata.resolve(Repodata.REPOMD), written.repomd());
        Files.write(repodata.resolve(Repodata.REPOMD_SIGNATURE), key.detachedSignature(written.repomd()));
        Files.writeString(snapshot.resolve(".kiln-retained-metadata"), "", StandardCharsets.UTF_8);
        Files.writeString(snapshot.resolve(DirectoryRepository.PUBLIC_KEY_FILE), key.armoredPublicKey(), StandardCharsets.US_ASCII);
        Files.deleteIfExists(location);
        Files.createSymbolicLink(location, location.getParent().relativize(snapshot));
        return snapshot;
    }

    /**
     * What a reader of the first layout finds, reading as it does (through the link, {@code repodata/}
     * inside the folder it leads to): every file the live {@code repomd.xml} names and every package
     * the package list names, checked against their checksums and signatures. Empty when whole.
     */
    static List<Verification.Problem> readAsFirstLayout(Path location, SigningKey key) throws IOException {
        Path root = location.toRealPath();
        return Verification.check("first-layout reader", path -> {
            Path file = root.resolve(path).normalize();
            return file.startsWith(root) && Files.isRegularFile(file) ? java.util.Optional.of(file) : java.util.Optional.empty();
        }, key).problems();
    }
}
