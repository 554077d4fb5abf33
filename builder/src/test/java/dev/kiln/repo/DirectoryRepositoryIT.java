package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import dev.kiln.pipeline.BuildKey;
import dev.kiln.pipeline.Provenance;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** Publishes real rpmbuild output and installs it with the real dnf over HTTP, gpgcheck and repo_gpgcheck on. */
class DirectoryRepositoryIT {

    @TempDir
    static Path dir;
    static SigningKey key;
    static Path hello1;
    static Path hello2;
    static Path helloSource;

    @BeforeAll
    static void setUp() throws IOException {
        key = KeyGenerator.generate(dir.resolve("key.sec.asc"), dir.resolve("key.pub.asc"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
        hello1 = signed(TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-hello", "1.0", "w19.zstdio"));
        hello2 = signed(TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-hello", "2.0", "w6.xzdio"));
        helloSource = TestRpms.source(Files.createTempDirectory(dir, "s"), "kiln-hello", "1.0");
    }

    private static Path signed(Path rpm) {
        new RpmSigner(key).sign(rpm);
        return rpm;
    }

    @Test
    void dnfInstallsAPublishedPackageWithSignaturesChecked() throws IOException {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("install/repo"));
        repo.publish(List.of(hello1), key);
        assertThat(repo.list()).extracting(Object::toString).containsExactly("kiln-hello-1.0-1.noarch");
        // packages in place, the metadata behind a link swapped atomically
        assertThat(Files.isSymbolicLink(repo.location().resolve("repodata"))).isTrue();
        assertThat(repo.location().resolve("repodata/repomd.xml.asc")).exists();
        assertThat(Files.readString(repo.location().resolve(DirectoryRepository.PUBLIC_KEY_FILE))).isEqualTo(key.armoredPublicKey());

        try (RepositoryServer server = RepositoryServer.start(repo.location(), "127.0.0.1", 0)) {
            Path root = Files.createTempDirectory(dir, "root");
            TestRpms.Run run = TestRpms.dnf(root, server.uri(), "install", "kiln-hello");
            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(run.output()).as(run.output()).contains("Importing GPG key 0x" + key.keyId().substring(8)).contains("Key imported successfully");
            assertThat(root.resolve("usr/share/kiln-hello/1.0.txt")).hasContent("kiln-hello 1.0");
        }
    }

    @Test
    void secondVersionIsListedAlongsideTheFirstAndDnfPicksTheNewer() throws IOException {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("two/repo"));
        String key1 = "sha256:" + "1".repeat(64);
        String key2 = "sha256:" + "2".repeat(64);
        repo.publish(List.of(hello1, helloSource), Map.of(hello1, provenance(key1, hello1, helloSource),
                helloSource, provenance(key1, hello1, helloSource)), key);
        Path json1 = repo.location().resolve("Packages/kiln-hello-1.0-1.noarch.rpm.provenance.json");
        Object inode1 = Files.getAttribute(json1, "unix:ino");
        repo.publish(List.of(hello2), Map.of(hello2, provenance(key2, hello2)), key);
        assertThat(repo.list()).extracting(Object::toString).containsExactly("kiln-hello-1.0-1.noarch", "kiln-hello-2.0-1.noarch");
        assertThat(repo.location().resolve("SRPMS").resolve(helloSource.getFileName())).exists();
        assertThat(repo.location().resolve("SRPMS").resolve(helloSource.getFileName() + ".provenance.json"))
                .hasBinaryContent(provenance(key1, hello1, helloSource));
        // The provenance of the first publish stays the same file, like its RPM: nothing is linked or copied per publish.
        assertThat(Files.getAttribute(json1, "unix:ino")).isEqualTo(inode1);
        assertThat(Files.getAttribute(json1, "unix:nlink")).isEqualTo(1);
        assertThat(repo.location().resolve("Packages/kiln-hello-2.0-1.noarch.rpm.provenance.json")).exists();
        // Repodata indexes the RPMs only.
        assertThat(primaryNames(repo.location())).containsExactly("kiln-hello", "kiln-hello");
        assertThat(Files.readString(repo.location().resolve("repodata/repomd.xml"))).doesNotContain("provenance");
        // One metadata folder per publish, and no snapshots.
        assertThat(dir.resolve("two/repo.snapshots")).doesNotExist();
        try (Stream<Path> snapshots = Files.list(dir.resolve("two/repo/.repodata"))) {
            assertThat(snapshots.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))).containsExactlyInAnyOrder("1", "2");
        }
        // same bytes again: accepted, and no new metadata folder (repomd.xml stays byte for byte)
        repo.publish(List.of(hello2), Map.of(hello2, provenance(key2, hello2)), key);
        try (Stream<Path> snapshots = Files.list(dir.resolve("two/repo/.repodata"))) {
            assertThat(snapshots.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))).containsExactlyInAnyOrder("1", "2");
        }
        assertThat(repo.buildKeys()).containsOnlyKeys(key1, key2);
        assertThat(repo.findByBuildKey(key1)).hasValueSatisfying(b -> assertThat(b.packages()).extracting(Object::toString)
                .containsExactly("kiln-hello-1.0-1.noarch", "kiln-hello-1.0-1.src"));

        try (RepositoryServer server = RepositoryServer.start(repo.location(), "127.0.0.1", 0)) {
            Path root = Files.createTempDirectory(dir, "root");
            TestRpms.Run run = TestRpms.dnf(root, server.uri(), "install", "kiln-hello");
            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(root.resolve("usr/share/kiln-hello/2.0.txt")).exists();
            assertThat(root.resolve("usr/share/kiln-hello/1.0.txt")).doesNotExist();
        }
    }

    @Test
    void findsAPublishedBuildByItsBuildKeyFromTheProvenanceAlone() throws IOException {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("keys/repo"));
        assertThat(repo.findByBuildKey("sha256:" + "1".repeat(64))).isEmpty();
        String key1 = "sha256:" + "1".repeat(64);
        repo.publish(List.of(hello1, helloSource), Map.of(hello1, provenance(key1, hello1, helloSource),
                helloSource, provenance(key1, hello1, helloSource)), key);
        repo.publish(List.of(hello2), key); // no provenance: not found by any key

        PublishedBuild found = repo.findByBuildKey(key1).orElseThrow();
        assertThat(found.buildKey()).isEqualTo(key1);
        assertThat(found.packages()).extracting(Object::toString).containsExactly("kiln-hello-1.0-1.noarch", "kiln-hello-1.0-1.src");
        assertThat(found.rpms()).containsExactly(repo.location().resolve("Packages/kiln-hello-1.0-1.noarch.rpm"),
                repo.location().resolve("SRPMS/kiln-hello-1.0-1.src.rpm"));
        assertThat(found.rpms()).allSatisfy(p -> assertThat(p).exists());
        assertThat(repo.findByBuildKey("sha256:" + "2".repeat(64))).isEmpty();
        assertThat(repo.provenance("kiln-hello-1.0-1.noarch.rpm")).isPresent();
        assertThat(repo.provenance("kiln-hello-2.0-1.noarch.rpm")).isEmpty();

        // A later publish is seen by the same instance: the cache follows the live snapshot.
        String key2 = "sha256:" + "2".repeat(64);
        Path hello3 = signed(TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-hello", "3.0", "w19.zstdio"));
        repo.publish(List.of(hello3), Map.of(hello3, provenance(key2, hello3)), key);
        assertThat(repo.findByBuildKey(key2)).hasValueSatisfying(b -> assertThat(b.packages()).extracting(Object::toString)
                .containsExactly("kiln-hello-3.0-1.noarch"));
    }

    @Test
    void refusesToOverwriteProvenanceAndProvenanceOfAnRpmNotPublished() throws IOException {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("prov-overwrite/repo"));
        String key1 = "sha256:" + "1".repeat(64);
        repo.publish(List.of(hello1), Map.of(hello1, provenance(key1, hello1)), key);
        String before = treeDigest(dir.resolve("prov-overwrite"));

        assertThatThrownBy(() -> repo.publish(List.of(hello1), Map.of(hello1, provenance("sha256:" + "3".repeat(64), hello1)), key))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageContaining("kiln-hello-1.0-1.noarch.rpm.provenance.json")
                .hasMessageContaining("never be overwritten");
        assertThatThrownBy(() -> repo.publish(List.of(hello1), Map.of(hello2, provenance(key1, hello2)), key))
                .isInstanceOf(KilnException.class)
                .hasMessageContaining("not among the RPMs to publish");
        assertThatThrownBy(() -> repo.publish(List.of(hello2), Map.of(hello2, "not json".getBytes()), key))
                .isInstanceOf(KilnException.class)
                .hasMessageContaining("is not JSON");
        assertThat(treeDigest(dir.resolve("prov-overwrite"))).isEqualTo(before);
    }

    /** A real provenance document, as the build renders it, naming {@code subjects}. */
    private static byte[] provenance(String buildKey, Path... subjects) {
        return new Provenance("kiln-hello", null, "0".repeat(40), false, "git+file:///defs", List.of("kiln", "build", "kiln-hello"),
                new BuildKey(buildKey), "el9", "sha256:" + "9".repeat(64), "sha256:tool", Map.of(), List.of(subjects),
                "20240101-000000-000", Instant.EPOCH, Instant.EPOCH.plusSeconds(1), "0.1.0").render();
    }

    @Test
    void dnfRefusesATamperedRepomd() throws IOException {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("tamper/repo"));
        repo.publish(List.of(hello1), key);
        Path repomd = repo.location().resolve("repodata/repomd.xml");
        Files.writeString(repomd, Files.readString(repomd).replace("<repomd ", "<repomd  "));
        try (RepositoryServer server = RepositoryServer.start(repo.location(), "127.0.0.1", 0)) {
            Path root = Files.createTempDirectory(dir, "root");
            TestRpms.Run run = TestRpms.dnf(root, server.uri(), "install", "kiln-hello");
            assertThat(run.exitCode()).as(run.output()).isNotZero();
            assertThat(run.output()).as(run.output()).contains("repomd.xml GPG signature verification error");
            assertThat(root.resolve("usr/share/kiln-hello/1.0.txt")).doesNotExist();
        }
    }

    @Test
    void aPublishThatFailsMidwayChangesNothing() throws IOException {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("fail/repo"));
        repo.publish(List.of(hello1), key);
        String before = treeDigest(dir.resolve("fail"));

        // Headers intact (so it passes the up-front checks), payload cut short: indexing fails after hello2 was copied in.
        Path corrupt = Files.createTempDirectory(dir, "c").resolve("kiln-corrupt-1.0-1.noarch.rpm");
        Files.copy(signed(TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-corrupt", "1.0", "w19.zstdio")), corrupt);
        try (RandomAccessFile raf = new RandomAccessFile(corrupt.toFile(), "rw")) {
            raf.setLength(raf.length() - 100);
        }
        assertThat(RpmFile.read(corrupt).signed()).isTrue();

        assertThatThrownBy(() -> repo.publish(List.of(hello2, corrupt), key))
                .isInstanceOf(KilnException.class)
                .hasMessageContaining("kiln-corrupt-1.0-1.noarch.rpm");
        assertThat(treeDigest(dir.resolve("fail"))).isEqualTo(before);
    }

    @Test
    void refusesToOverwriteAPublishedReleaseWithOtherBytes() throws IOException {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("overwrite/repo"));
        repo.publish(List.of(hello1), key);
        String before = treeDigest(dir.resolve("overwrite"));
        Path rebuilt = signed(TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-hello", "1.0", "w19.zstdio"));
        assertThat(Files.mismatch(rebuilt, hello1)).isNotEqualTo(-1);

        assertThatThrownBy(() -> repo.publish(List.of(rebuilt), key))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageContaining(hello1.getFileName().toString())
                .hasMessageContaining("never be overwritten");
        assertThat(treeDigest(dir.resolve("overwrite"))).isEqualTo(before);
    }

    @Test
    void publishingWhatIsAlreadyThereLeavesTheRepositoryByteForByte() throws IOException {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("same/repo"));
        repo.publish(List.of(hello1), key);
        Path repomd = repo.location().resolve("repodata/repomd.xml");
        byte[] first = Files.readAllBytes(repomd);
        String before = treeDigest(dir.resolve("same"));

        repo.publish(List.of(hello1), key);

        assertThat(Files.readAllBytes(repomd)).isEqualTo(first);
        assertThat(treeDigest(dir.resolve("same"))).isEqualTo(before);
        // a real change still goes through, and the package published earlier stays listed beside it
        repo.publish(List.of(hello1, hello2), key);
        assertThat(Files.readAllBytes(repomd)).isNotEqualTo(first);
        assertThat(primaryNames(repo.location())).containsExactlyInAnyOrder("kiln-hello", "kiln-hello");
        assertThat(repo.list()).extracting(Object::toString).containsExactly("kiln-hello-1.0-1.noarch", "kiln-hello-2.0-1.noarch");
    }

    @Test
    void concurrentPublishesDoNotLoseEachOthersPackages() throws Exception {
        DirectoryRepository first = new DirectoryRepository(dir.resolve("concurrent/repo"));
        DirectoryRepository second = new DirectoryRepository(dir.resolve("concurrent/repo"));
        try (var executor = java.util.concurrent.Executors.newFixedThreadPool(2)) {
            var a = executor.submit(() -> first.publish(List.of(hello1), key));
            var b = executor.submit(() -> second.publish(List.of(hello2), key));
            a.get();
            b.get();
        }
        assertThat(first.list()).extracting(Object::toString).containsExactly("kiln-hello-1.0-1.noarch", "kiln-hello-2.0-1.noarch");
        assertThat(primaryNames(first.location())).hasSize(2);
    }

    @Test
    void refusesUnsignedBinaryRpms() throws IOException {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("unsigned/repo"));
        Path unsigned = TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-unsigned", "1.0", "w19.zstdio");
        assertThatThrownBy(() -> repo.publish(List.of(unsigned), key))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageContaining(unsigned.toString());
        assertThat(repo.location()).doesNotExist();
    }

    @Test
    void refusesAFolderThatCannotBeCreated() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
        DirectoryRepository repo = new DirectoryRepository(file.resolve("repo"));
        assertThatThrownBy(() -> repo.publish(List.of(hello1), key))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                .hasMessageStartingWith("repository folder " + file.resolve("repo") + " is not writable");
    }

    @Test
    void refusesAnUnwritableFolder() throws IOException {
        Path readOnly = Files.createDirectory(dir.resolve("readonly"));
        readOnly.toFile().setWritable(false, false);
        try {
            // root ignores permission bits, so only assert when the OS enforces them
            org.junit.jupiter.api.Assumptions.assumeFalse(Files.isWritable(readOnly), "running as root");
            DirectoryRepository repo = new DirectoryRepository(readOnly.resolve("repo"));
            assertThatThrownBy(() -> repo.publish(List.of(hello1), key))
                    .isInstanceOf(KilnException.class)
                    .hasMessageStartingWith("repository folder " + readOnly.resolve("repo") + " is not writable");
        } finally {
            readOnly.toFile().setWritable(true, false);
        }
    }

    @Test
    void primaryMatchesCreaterepoC() throws Exception {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("compare/repo"));
        repo.publish(List.of(hello1, hello2), key);
        Path copy = Files.createDirectories(dir.resolve("compare/createrepo/Packages"));
        for (Path rpm : List.of(hello1, hello2)) {
            Files.copy(rpm, copy.resolve(rpm.getFileName()));
        }
        TestRpms.Run run = TestRpms.run("createrepo_c", "--no-database", copy.getParent().toString());
        assertThat(run.exitCode()).as(run.output()).isZero();

        List<String> ours = primaryPackages(repo.location());
        List<String> theirs = primaryPackages(copy.getParent());
        assertThat(ours).hasSize(2).isEqualTo(theirs);
        assertThat(ours.getFirst()).contains("|provides=[kiln-hello/EQ/0:1.0-1]|");
    }

    /** One line per package in primary.xml: name, version, pkgid checksum, location, header range, package size. */
    private static List<String> primaryPackages(Path repo) throws Exception {
        Document doc = primary(repo);
        NodeList packages = doc.getElementsByTagNameNS("*", "package");
        Set<String> lines = new TreeSet<>();
        for (int i = 0; i < packages.getLength(); i++) {
            Element pkg = (Element) packages.item(i);
            Element checksum = child(pkg, "checksum");
            Element version = child(pkg, "version");
            Element format = child(pkg, "format");
            Element range = child(format, "header-range");
            lines.add(String.join("|", text(pkg, "name"), text(pkg, "arch"), version.getAttribute("ver"), version.getAttribute("rel"),
                    checksum.getAttribute("type"), checksum.getAttribute("pkgid"), checksum.getTextContent(),
                    child(pkg, "location").getAttribute("href"), range.getAttribute("start"), range.getAttribute("end"),
                    child(pkg, "size").getAttribute("package"), child(pkg, "size").getAttribute("installed"),
                    entries(format, "provides"), entries(format, "requires")));
        }
        return new ArrayList<>(lines);
    }

    /** The rpm:entry elements of one dependency list, as name/flags/epoch:ver-rel, sorted. */
    private static String entries(Element format, String list) {
        NodeList lists = format.getElementsByTagNameNS("*", list);
        Set<String> result = new TreeSet<>();
        if (lists.getLength() > 0) {
            NodeList entries = ((Element) lists.item(0)).getElementsByTagNameNS("*", "entry");
            for (int i = 0; i < entries.getLength(); i++) {
                Element e = (Element) entries.item(i);
                result.add(e.getAttribute("name") + "/" + e.getAttribute("flags") + "/" + e.getAttribute("epoch")
                        + ":" + e.getAttribute("ver") + "-" + e.getAttribute("rel"));
            }
        }
        return list + "=" + result;
    }

    private static List<String> primaryNames(Path repo) throws IOException {
        try {
            Document doc = primary(repo);
            NodeList packages = doc.getElementsByTagNameNS("*", "package");
            List<String> names = new ArrayList<>();
            for (int i = 0; i < packages.getLength(); i++) {
                names.add(text((Element) packages.item(i), "name"));
            }
            return names;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private static Document primary(Path repo) throws Exception {
        Document repomd = parse(Files.newInputStream(repo.resolve("repodata/repomd.xml")));
        NodeList data = repomd.getElementsByTagNameNS("*", "data");
        for (int i = 0; i < data.getLength(); i++) {
            Element d = (Element) data.item(i);
            if (d.getAttribute("type").equals("primary")) {
                String href = child(d, "location").getAttribute("href");
                return parse(new GZIPInputStream(Files.newInputStream(repo.resolve(href))));
            }
        }
        throw new AssertionError("no primary in " + repo);
    }

    private static Document parse(InputStream in) throws Exception {
        try (in) {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            return factory.newDocumentBuilder().parse(in);
        }
    }

    private static Element child(Element parent, String name) {
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e && e.getLocalName().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("no <" + name + "> in <" + parent.getLocalName() + ">");
    }

    private static String text(Element parent, String name) {
        return child(parent, name).getTextContent();
    }


    /** Every path under {@code root} (symlinks as their target text, files as their SHA-256), sorted. */
    static String treeDigest(Path root) throws IOException {
        StringBuilder tree = new StringBuilder();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                tree.append(root.relativize(p)).append(' ');
                if (Files.isSymbolicLink(p)) {
                    tree.append("-> ").append(Files.readSymbolicLink(p));
                } else if (Files.isRegularFile(p)) {
                    tree.append(sha256(Files.readAllBytes(p)));
                }
                tree.append('\n');
            }
        }
        return tree.toString();
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
