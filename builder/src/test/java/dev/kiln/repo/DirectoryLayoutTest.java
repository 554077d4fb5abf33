package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.SyntheticRpms;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The directory repository's second layout on disk, with real signed RPMs and real files: what a
 * publish writes (and does not), what a killed publish leaves and the next one removes, and the
 * conversion of a first-layout repository.
 */
class DirectoryLayoutTest {

    @TempDir
    static Path dir;
    static SigningKey key;
    static final List<Path> RPMS = new ArrayList<>();

    @BeforeAll
    static void setUp() throws IOException {
        key = KeyGenerator.generate(dir.resolve("key.asc"), dir.resolve("key.pub"), "Kiln Test <t@kiln.dev>", new char[0]);
        RpmSigner signer = new RpmSigner(key);
        for (int i = 0; i < 21; i++) {
            RPMS.add(SyntheticRpms.write(dir.resolve("rpms"), "synth", "1." + i, signer));
        }
    }

    @Test
    void addingOnePackageWritesThatPackageAndOneMetadataFolderAndLinksNothing() throws Exception {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("add/repo"));
        repo.publish(RPMS.subList(0, 20), key);
        Map<String, Object> before = inodes(repo.location());
        byte[] repomd = Files.readAllBytes(repo.location().resolve("repodata/repomd.xml"));

        repo.publish(List.of(RPMS.get(20)), key);

        Map<String, Object> after = inodes(repo.location());
        Set<String> changed = new TreeSet<>();
        after.forEach((path, inode) -> {
            if (!inode.equals(before.get(path))) {
                changed.add(path);
            }
        });
        // Outside the new metadata folder only the new package and the two links changed; every other file is the same inode.
        assertThat(changed.stream().filter(p -> !p.startsWith(".repodata/2/"))).containsExactlyInAnyOrder(
                "Packages/synth-1.20-1.noarch.rpm", "repodata", ".repodata/2");
        // and that folder holds a fixed number of files: documents, repomd.xml, its signature, the key, the replaced documents
        assertThat(changed.stream().filter(p -> p.startsWith(".repodata/2/"))).hasSizeLessThanOrEqualTo(12);
        assertThat(Files.readSymbolicLink(repo.location().resolve("repodata"))).isEqualTo(Path.of(".repodata/2"));
        assertThat(Files.readSymbolicLink(repo.location().resolve(DirectoryRepository.PUBLIC_KEY_FILE)))
                .isEqualTo(Path.of("repodata", DirectoryRepository.PUBLIC_KEY_FILE));
        try (Stream<Path> files = Files.list(repo.location().resolve("Packages"))) {
            assertThat(files.toList()).hasSize(21).allSatisfy(f -> assertThat(Files.getAttribute(f, "unix:nlink")).isEqualTo(1));
        }
        assertThat(dir.resolve("add/repo.snapshots")).doesNotExist();
        // the replaced repomd.xml's documents are still served beside the new ones
        for (String href : RetainedMetadata.locations(repomd)) {
            assertThat(repo.location().resolve(href)).isRegularFile();
        }
        assertThat(repo.list()).hasSize(21).extracting(Nevra::toString).contains("synth-1.20-1.noarch");
        assertThat(new DirectoryTarget(dev.kiln.config.TargetConfig.localDirectory(repo.location())).verify(key).problems()).isEmpty();

        // the same package again changes nothing, repomd.xml least of all
        byte[] live = Files.readAllBytes(repo.location().resolve("repodata/repomd.xml"));
        assertThat(repo.publish(List.of(RPMS.get(20)), key).metadataChanged()).isFalse();
        assertThat(Files.readAllBytes(repo.location().resolve("repodata/repomd.xml"))).isEqualTo(live);
        assertThat(inodes(repo.location())).isEqualTo(after);
    }

    @Test
    void whatAKilledPublishLeftIsRemovedAndAPackageItWroteButNeverListedIsPublishedAgain() throws Exception {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("killed/repo"));
        repo.publish(RPMS.subList(0, 2), key);
        Path root = repo.location();
        // as a publish killed after renaming its package into place but before its metadata swap leaves it,
        // with another build's bytes under that name, a temporary file and an unfinished metadata folder
        Path other = Files.copy(RPMS.get(2), Files.createDirectories(dir.resolve("killed/other")).resolve("synth-1.2-1.noarch.rpm"));
        byte[] bytes = Files.readAllBytes(other);
        bytes[bytes.length - 1] ^= 1; // another build's bytes under the same name (the headers are untouched)
        Files.write(other, bytes);
        Files.copy(other, root.resolve("Packages/synth-1.2-1.noarch.rpm"));
        Files.writeString(root.resolve("Packages/synth-1.2-1.noarch.rpm.provenance.json"), "{\"half\": true}");
        Files.writeString(root.resolve(".incoming/synth-1.3-1.noarch.rpm.part"), "half");
        Files.createDirectories(root.resolve(".repodata/3.tmp"));
        Files.writeString(root.resolve(".repodata/3.tmp/repomd.xml"), "half");

        assertThat(repo.list()).as("what the metadata does not list is not published").hasSize(2);
        assertThat(repo.buildKeys()).isEmpty();
        byte[] provenance = ("{\"predicate\": {\"buildDefinition\": {\"internalParameters\": {\"buildKey\": \"sha256:"
                + "3".repeat(64) + "\"}}}}").getBytes();
        Publication p = repo.publish(List.of(RPMS.get(2)), Map.of(RPMS.get(2), provenance), key);

        assertThat(p.added()).containsExactly("synth-1.2-1.noarch.rpm", "synth-1.2-1.noarch.rpm.provenance.json");
        assertThat(root.resolve("Packages/synth-1.2-1.noarch.rpm")).hasSameBinaryContentAs(RPMS.get(2));
        assertThat(root.resolve(".incoming")).isEmptyDirectory();
        assertThat(root.resolve(".repodata/3.tmp")).doesNotExist();
        assertThat(repo.list()).hasSize(3);
        assertThat(repo.buildKeys()).containsOnlyKeys("sha256:" + "3".repeat(64));
        assertThat(new DirectoryTarget(dev.kiln.config.TargetConfig.localDirectory(root)).verify(key).problems()).isEmpty();
        // once listed it is a release: other bytes are refused
        assertThatThrownBy(() -> repo.publish(List.of(other), key))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageContaining("synth-1.2-1.noarch.rpm is already published with different content");
    }

    @Test
    void aFirstLayoutRepositoryIsConvertedByItsNextPublishAndStaysReadableByBothLayouts() throws Exception {
        Path location = dir.resolve("convert/repo");
        Path snapshot = FirstLayout.make(location, 4, RPMS.subList(0, 5), key);
        byte[] firstRepomd = Files.readAllBytes(location.resolve("repodata/repomd.xml"));
        DirectoryRepository repo = new DirectoryRepository(location);
        // this code reads the first layout as it is
        assertThat(repo.list()).hasSize(5);
        assertThat(repo.packages().getFirst().path()).isEqualTo(location.resolve("Packages/synth-1.0-1.noarch.rpm"));
        Path listedBefore = repo.packages().getFirst().path();

        repo.publish(List.of(RPMS.get(5)), key);

        Path converted = location.toRealPath();
        assertThat(converted).isEqualTo(snapshot.resolveSibling("5").toRealPath());
        assertThat(converted.resolve(".kiln-layout")).isRegularFile();
        assertThat(Files.readSymbolicLink(converted.resolve("repodata"))).isEqualTo(Path.of(".repodata/2"));
        // the metadata of the first layout was taken over whole, byte for byte, as the first metadata folder
        assertThat(converted.resolve(".repodata/1/repomd.xml")).hasBinaryContent(firstRepomd);
        // and a client that fetched that repomd.xml just before still gets every file it names
        for (String href : RetainedMetadata.locations(firstRepomd)) {
            assertThat(location.resolve(href)).as(href).isRegularFile();
        }
        assertThat(repo.list()).hasSize(6);
        assertThat(listedBefore).isRegularFile();
        assertThat(snapshot.resolve("Packages/synth-1.0-1.noarch.rpm")).as("the replaced snapshot outlives the conversion").isRegularFile();
        assertThat(FirstLayout.readAsFirstLayout(location, key)).isEmpty();
        assertThat(new DirectoryTarget(dev.kiln.config.TargetConfig.localDirectory(location)).verify(key).problems()).isEmpty();

        // later publishes add to the converted folder only, and the first layout's snapshot goes
        repo.publish(List.of(RPMS.get(6)), key);
        assertThat(location.toRealPath()).isEqualTo(converted);
        try (Stream<Path> names = Files.list(location.resolveSibling("repo.snapshots"))) {
            assertThat(names.map(n -> n.getFileName().toString()).filter(n -> !n.startsWith("."))).containsExactly("5");
        }
        assertThat(repo.list()).extracting(Nevra::version).containsExactly("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6");
        assertThat(listedBefore).isRegularFile();
        assertThat(FirstLayout.readAsFirstLayout(location, key)).isEmpty();
    }

    @Test
    void aPlainFolderThatIsNotARepositoryIsRefusedAndAnEmptyOneIsTaken() throws Exception {
        Path foreign = Files.createDirectories(dir.resolve("plain/repo"));
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> new DirectoryRepository(foreign).publish(List.of(RPMS.get(0)), key))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessage("repository folder " + foreign + " is a plain folder, not a Kiln repository (it has no .kiln-layout): "
                        + "choose an empty path or remove it");
        assertThat(foreign.resolve("Packages")).doesNotExist();
        Path empty = Files.createDirectories(dir.resolve("empty/repo"));
        new DirectoryRepository(empty).publish(List.of(RPMS.get(0)), key);
        assertThat(new DirectoryRepository(empty).list()).hasSize(1);
    }

    @Test
    void aMetadataLinkOutOfTheRepositoryIsRefusedNotServed() throws Exception {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("hostile/repo"));
        repo.publish(List.of(RPMS.get(0)), key);
        Path link = repo.location().resolve("repodata");
        Files.delete(link);
        Files.createSymbolicLink(link, Path.of("/etc"));
        assertThatThrownBy(repo::list)
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageContaining("links to /etc, not to one of its .repodata folders");
        try (RepositoryServer server = RepositoryServer.start(repo.location(), "127.0.0.1", 0)) {
            var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    server.uri().resolve("repodata/passwd")).build(), java.net.http.HttpResponse.BodyHandlers.discarding());
            assertThat(response.statusCode()).isEqualTo(404);
        }
    }

    /** Every path under {@code root} (links not followed) with its inode, links by their target. */
    private static Map<String, Object> inodes(Path root) throws IOException {
        Map<String, Object> result = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                result.put(root.relativize(p).toString(), Files.isSymbolicLink(p) ? "-> " + Files.readSymbolicLink(p)
                        : Files.getAttribute(p, "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS));
            }
        }
        return result;
    }
}
