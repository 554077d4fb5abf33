package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.KilnProject;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.TestRpms;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Readers that outlive publishes: a second JVM that lists the repository and reads what it listed
 * after many publishes, a build that reads a dependency long after it listed it, and real HTTP
 * readers and dnf that fetch {@code repomd.xml} before a publish and the files it names after it.
 * None of them holds anything: packages are never moved or removed, and metadata folders stay
 * bounded.
 */
class RepositoryConcurrencyIT {

    private static final int PUBLISHES = 12;
    private static final int HTTP_ROUNDS = 20;

    @TempDir
    static Path dir;
    static SigningKey key;
    static Path hello1;
    static Path hello2;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void setUp() throws IOException {
        key = KeyGenerator.generate(dir.resolve("key.sec.asc"), dir.resolve("key.pub.asc"), "Kiln Test <t@kiln.dev>", "pw".toCharArray());
        hello1 = TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-hello", "1.0", "w19.zstdio");
        hello2 = TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-hello", "2.0", "w19.zstdio");
        new RpmSigner(key).sign(hello1);
        new RpmSigner(key).sign(hello2);
        Path roundsDir = Files.createTempDirectory(dir, "rounds");
        for (int i = 0; i < Math.max(PUBLISHES, HTTP_ROUNDS) + 1; i++) {
            Path rpm = TestRpms.binary(Files.createTempDirectory(roundsDir, "r"), "kiln-round", "1." + i, "w19.zstdio");
            new RpmSigner(key).sign(rpm);
            ROUNDS.add(rpm);
        }
    }

    /** Distinct signed RPMs, one per publish of a loop: publishing what is already there changes nothing. */
    private static final List<Path> ROUNDS = new ArrayList<>();

    private static Path round(int i) {
        return ROUNDS.get(i);
    }

    @Test
    void aReaderProcessReadsWhatItListedAfterManyPublishesWhileMetadataFoldersStayBounded() throws Exception {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("lease/repo"), Duration.ZERO);
        repo.publish(List.of(hello1, hello2), key);
        try (Reader reader = Reader.start(repo.location())) {
            List<Integer> counts = new ArrayList<>();
            for (int i = 0; i < PUBLISHES; i++) {
                repo.publish(List.of(round(i)), key); // a new package each time: a new metadata folder
                counts.add(metadataFolders(repo).size());
            }
            String read = reader.ask("read");
            System.out.println("metadata folders after each of " + PUBLISHES + " publishes with a reader alive: " + counts
                    + "; the reader then: " + read);
            assertThat(read).isEqualTo("read 2 of 2");
            // The live one and the one it replaced, however many publishes and whoever reads.
            assertThat(metadataFolders(repo)).containsExactly(Integer.toString(PUBLISHES), Integer.toString(PUBLISHES + 1));
            assertThat(counts).allSatisfy(c -> assertThat(c).isLessThanOrEqualTo(2));
            // Every package lives once: never linked into a later publish, never copied.
            try (Stream<Path> files = Files.list(repo.location().resolve("Packages"))) {
                assertThat(files.toList()).hasSize(PUBLISHES + 2)
                        .allSatisfy(f -> assertThat(Files.getAttribute(f, "unix:nlink")).as(f.toString()).isEqualTo(1));
            }
            assertThat(dir.resolve("lease/repo.snapshots")).doesNotExist();
        }
    }

    @Test
    void aBuildWhoseDependencyIsReadLongAfterItStartedSucceedsWhileAnotherProcessPublishes() throws Exception {
        KilnProject project = KilnProject.create(Files.createDirectories(dir.resolve("project")));
        KilnProject.Result libgreet = project.run("build", "libgreet");
        assertThat(libgreet.exitCode()).as(libgreet.describe()).isZero();
        // greeter also needs slowdep, built in the same run and sleeping in %build: greeter reads the libgreet
        // RPM the run listed at its start only once slowdep is done, after many publishes by another process.
        project.write("specs/slowdep/slowdep.spec", """
                Name:           slowdep
                Version:        1.0
                Release:        1%{?dist}
                Summary:        Takes its time to build
                License:        MIT
                BuildArch:      noarch

                %description
                A package whose build is slow.

                %prep
                %setup -q -c -T

                %build
                sleep 10

                %install
                mkdir -p %{buildroot}%{_datadir}/slowdep
                echo slow > %{buildroot}%{_datadir}/slowdep/done

                %files
                %{_datadir}/slowdep/done

                %changelog
                * Wed Nov 25 2026 Kiln Packaging <packaging@example.com> - 1.0-1
                - First package
                """);
        project.write("specs/greeter/greeter.spec", project.read("specs/greeter/greeter.spec")
                .replace("BuildRequires:  libgreet\n", "BuildRequires:  libgreet\nBuildRequires:  slowdep\n"));
        assertThat(project.read("specs/greeter/greeter.spec")).contains("BuildRequires:  slowdep");
        project.commit("greeter needs slowdep");
        Path released;
        try (Stream<Path> files = Files.list(project.repository().resolve("Packages"))) {
            released = files.filter(f -> f.getFileName().toString().matches("libgreet-.*\\.noarch\\.rpm")).findFirst().orElseThrow();
        }
        Path copy = Files.copy(released, Files.createTempDirectory(dir, "libgreet").resolve(released.getFileName()));

        DirectoryRepository repo = new DirectoryRepository(project.repository());
        Process build = project.start(List.of("build", "slowdep", "greeter"), Map.of());
        var stdout = java.util.concurrent.CompletableFuture.supplyAsync(() -> drain(build.getInputStream()));
        var stderr = java.util.concurrent.CompletableFuture.supplyAsync(() -> drain(build.getErrorStream()));
        int publishes = 0;
        int most = 0;
        while (build.isAlive() && publishes < 200) {
            repo.publish(List.of(copy), key);
            publishes++;
            most = Math.max(most, metadataFolders(repo).size());
            Thread.sleep(200);
        }
        assertThat(build.waitFor(10, TimeUnit.MINUTES)).isTrue();
        KilnProject.Result result = new KilnProject.Result(build.exitValue(), stdout.join(), stderr.join());
        System.out.println("kiln build slowdep greeter: exit " + result.exitCode() + " with " + publishes
                + " publishes by another process meanwhile; at most " + most + " metadata folders; left " + metadataFolders(repo));
        assertThat(result.exitCode()).as(result.describe()).isZero();
        assertThat(result.stderr()).doesNotContain("NoSuchFileException");
        assertThat(publishes).as("publishes while the build ran").isGreaterThan(10);
        assertThat(repo.list()).extracting(Object::toString).anyMatch(n -> n.startsWith("greeter-1.0-1"))
                .anyMatch(n -> n.startsWith("slowdep-1.0-1"));
        // The same bytes again change nothing, and the build held nothing that a publish had to wait for.
        List<String> folders = metadataFolders(repo);
        repo.publish(List.of(copy), key);
        assertThat(metadataFolders(repo)).isEqualTo(folders);
    }

    private static String drain(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void whatThisProcessListedStaysReadableAfterPublishesWithNothingHeld() throws Exception {
        DirectoryRepository writer = new DirectoryRepository(dir.resolve("local/repo"), Duration.ZERO);
        writer.publish(List.of(hello1), key);
        DirectoryRepository reader = new DirectoryRepository(writer.location());
        List<RpmFile> listed = reader.packages();
        for (int i = 0; i < 5; i++) {
            writer.publish(List.of(round(i)), key);
        }
        assertThat(metadataFolders(writer)).containsExactly("5", "6");
        assertThat(RpmFile.read(listed.getFirst().path()).nevra()).hasToString("kiln-hello-1.0-1.noarch");
        assertThat(listed.getFirst().path()).isEqualTo(writer.location().resolve("Packages/kiln-hello-1.0-1.noarch.rpm"));
        assertThat(reader.list()).hasSize(6);
    }

    @Test
    void httpReadersGetEveryFileTheirRepomdNamesAfterAPublishAndDnfStillInstalls() throws Exception {
        DirectoryRepository repo = new DirectoryRepository(dir.resolve("http/repo"));
        repo.publish(List.of(hello1, hello2), key);
        int requests = 0;
        Map<Integer, Integer> statuses = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        try (RepositoryServer server = RepositoryServer.start(repo.location(), "127.0.0.1", 0)) {
            for (int round = 0; round < HTTP_ROUNDS; round++) {
                byte[] repomd = get(server.uri().resolve("repodata/repomd.xml")).body();
                Map<String, String> named = checksums(repomd);
                assertThat(named).containsKeys("primary", "filelists", "other");
                repo.publish(List.of(round(round)), key); // a publish between repomd.xml and its files
                for (Map.Entry<String, String> file : named.entrySet().stream()
                        .collect(Collectors.toMap(e -> location(repomd, e.getKey()), Map.Entry::getValue)).entrySet()) {
                    HttpResponse<byte[]> response = get(server.uri().resolve(file.getKey()));
                    requests++;
                    statuses.merge(response.statusCode(), 1, Integer::sum);
                    if (response.statusCode() != 200) {
                        failures.add("round " + round + ": " + response.statusCode() + " " + file.getKey());
                    } else if (!sha256(response.body()).equals(file.getValue())) {
                        failures.add("round " + round + ": other bytes for " + file.getKey());
                    } else if (file.getKey().endsWith("primary.xml.gz")) {
                        for (String rpm : packageLocations(response.body())) {
                            int status = get(server.uri().resolve(rpm)).statusCode();
                            requests++;
                            statuses.merge(status, 1, Integer::sum);
                            if (status != 200) {
                                failures.add("round " + round + ": " + status + " " + rpm);
                            }
                        }
                    }
                }
            }
            System.out.println(HTTP_ROUNDS + " rounds, " + requests + " requests after a publish: statuses " + statuses
                    + "; metadata folders left " + metadataFolders(repo) + "; repodata files " + repodata(repo).size());
            assertThat(failures).isEmpty();

            Path root = Files.createTempDirectory(dir, "root");
            TestRpms.Run run = TestRpms.dnf(root, server.uri(), "install", "kiln-hello");
            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(root.resolve("usr/share/kiln-hello/2.0.txt")).exists();
        }
    }

    @Test
    void replacedMetadataStaysForItsGraceThenGoes() throws Exception {
        DirectoryRepository lasting = new DirectoryRepository(dir.resolve("grace/repo"));
        DirectoryRepository brief = new DirectoryRepository(dir.resolve("nograce/repo"), Duration.ZERO);
        List<Set<String>> namedLasting = new ArrayList<>();
        List<Set<String>> namedBrief = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            lasting.publish(List.of(round(i)), key);
            brief.publish(List.of(round(i)), key);
            namedLasting.add(metadataFiles(lasting));
            namedBrief.add(metadataFiles(brief));
        }
        // Within the default hour the files of every replaced repomd.xml stay.
        assertThat(repodata(lasting)).containsAll(namedLasting.get(0)).containsAll(namedLasting.get(1))
                .containsAll(namedLasting.get(2)).containsAll(namedLasting.get(3));
        // With no grace only the files of the repomd.xml just replaced stay beside the new one's.
        assertThat(repodata(brief)).containsAll(namedBrief.get(3)).containsAll(namedBrief.get(2))
                .doesNotContainAnyElementsOf(namedBrief.get(1)).doesNotContainAnyElementsOf(namedBrief.get(0));
        // The live repomd.xml names its own files only, and its signature is over it.
        assertThat(namedBrief.get(3)).hasSize(4).doesNotContainAnyElementsOf(namedBrief.get(2));
        TestRpms.Run verify = TestRpms.run("gpgv", "--keyring", gpgKeyring(), brief.location().resolve("repodata/repomd.xml.asc").toString(),
                brief.location().resolve("repodata/repomd.xml").toString());
        assertThat(verify.exitCode()).as(verify.output()).isZero();
    }

    private static String gpgKeyring() throws IOException {
        Path home = Files.createTempDirectory(dir, "gnupg");
        Path keyring = home.resolve("kiln.gpg");
        TestRpms.Run run = TestRpms.run("gpg", "--homedir", home.toString(), "--batch", "--dearmor", "-o", keyring.toString(),
                dir.resolve("key.pub.asc").toString());
        assertThat(run.exitCode()).as(run.output()).isZero();
        return keyring.toString();
    }

    private static byte[] readRepomd(DirectoryRepository repo) {
        try {
            return Files.readAllBytes(repo.location().resolve("repodata/repomd.xml"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Set<String> metadataFiles(DirectoryRepository repo) throws Exception {
        byte[] repomd = readRepomd(repo);
        return checksums(repomd).keySet().stream().map(t -> Path.of(location(repomd, t)).getFileName().toString())
                .collect(Collectors.toSet());
    }

    private HttpResponse<byte[]> get(URI uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** The numbered metadata folders, sorted by number. */
    private static List<String> metadataFolders(DirectoryRepository repo) throws IOException {
        try (Stream<Path> dirs = Files.list(repo.location().resolve(".repodata"))) {
            return dirs.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9]+"))
                    .sorted(java.util.Comparator.comparingInt(Integer::parseInt)).toList();
        }
    }

    private static Set<String> repodata(DirectoryRepository repo) throws IOException {
        try (Stream<Path> files = Files.list(repo.location().resolve("repodata"))) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    /** Each {@code <data type>} of a repomd.xml with its sha256 checksum. */
    private static Map<String, String> checksums(byte[] repomd) throws Exception {
        Map<String, String> result = new LinkedHashMap<>();
        NodeList data = parse(repomd).getElementsByTagNameNS("*", "data");
        for (int i = 0; i < data.getLength(); i++) {
            Element d = (Element) data.item(i);
            Element checksum = (Element) d.getElementsByTagNameNS("*", "checksum").item(0);
            assertThat(checksum.getAttribute("type")).isEqualTo("sha256");
            result.put(d.getAttribute("type"), checksum.getTextContent().trim());
        }
        return result;
    }

    private static String location(byte[] repomd, String type) {
        try {
            NodeList data = parse(repomd).getElementsByTagNameNS("*", "data");
            for (int i = 0; i < data.getLength(); i++) {
                Element d = (Element) data.item(i);
                if (d.getAttribute("type").equals(type)) {
                    return ((Element) d.getElementsByTagNameNS("*", "location").item(0)).getAttribute("href");
                }
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no " + type + " in repomd.xml");
    }

    private static List<String> packageLocations(byte[] primaryGz) throws Exception {
        NodeList locations = parse(new GZIPInputStream(new ByteArrayInputStream(primaryGz)).readAllBytes())
                .getElementsByTagNameNS("*", "location");
        List<String> result = new ArrayList<>();
        for (int i = 0; i < locations.getLength(); i++) {
            result.add(((Element) locations.item(i)).getAttribute("href"));
        }
        return result;
    }

    private static org.w3c.dom.Document parse(byte[] xml) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }


    /** {@link ListingReader} in its own JVM. */
    private record Reader(Process process, BufferedReader out, Writer in, String listed) implements AutoCloseable {

        static Reader start(Path location) throws IOException {
            Process process = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                    "-cp", System.getProperty("java.class.path"), ListingReader.class.getName(), location.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String listed = out.readLine();
            assertThat(listed).as("the reader's first line").startsWith("listed ");
            return new Reader(process, out, new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), listed);
        }

        String ask(String command) throws IOException {
            in.write(command + "\n");
            in.flush();
            return out.readLine();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }
}
