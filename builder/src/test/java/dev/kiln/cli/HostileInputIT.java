package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.KilnProject;
import dev.kiln.container.BuildContainer;
import dev.kiln.container.DockerEngine;
import dev.kiln.source.SourceCache;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile specs and careless settings through the real CLI, against the real engine: each is
 * refused with exit 2 and one line, reads nothing it must not (the secret text appears in no
 * output, record, repository file or HTTP response), changes no repository, creates no build
 * record, and leaves no build container behind.
 */
class HostileInputIT {

    @TempDir
    static Path tmp;

    static KilnProject project;
    static DockerEngine engine;
    /** The development signing key's file, a secret a branch must not be able to read. */
    static Path devKey;
    static Set<String> devKeySecretLines;
    static Set<String> shadowLines;

    @BeforeAll
    static void project() throws IOException {
        project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
        KilnProject.Result first = project.run("build", "hello");
        assertThat(first.exitCode()).as(first.describe()).isZero();
        engine = DockerEngine.connect(project.root().resolve(".kiln"), s -> { });
        devKey = project.root().resolve(".kiln/keys/signing-key.asc");
        devKeySecretLines = secretLines(Files.readString(devKey), Files.readString(Path.of(devKey + ".pub")));
        Path shadow = Path.of("/etc/shadow");
        shadowLines = Files.isReadable(shadow)
                ? new TreeSet<>(Files.readAllLines(shadow).stream().filter(l -> l.length() > 8).toList()) : Set.of();
    }

    @AfterEach
    void noContainerLeft() {
        assertThat(engine.client().listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec())
                .as("no build container left behind").isEmpty();
    }

    /** The base64 lines of a secret key's armored body that its public key does not share (the secret material). */
    static Set<String> secretLines(String secretArmor, String publicArmor) {
        Set<String> lines = new TreeSet<>(body(secretArmor));
        lines.removeAll(body(publicArmor));
        assertThat(lines).as("secret key lines to look for").hasSizeGreaterThan(10);
        return lines;
    }

    private static List<String> body(String armor) {
        List<String> lines = armor.lines().toList();
        int start = lines.indexOf("") + 1;
        return lines.subList(start, lines.size()).stream()
                .takeWhile(l -> !l.startsWith("=") && !l.startsWith("-----")).toList();
    }

    /**
     * What a refused run leaves: repository, build records and the source cache, to compare after
     * it. Not rpm's readings of specs (cache/specs/): a refused spec's reading is kept by design.
     */
    private static String state() {
        Path kiln = project.root().resolve(".kiln");
        String sources = KilnProject.treeDigest(kiln.resolve("cache")).lines()
                .filter(l -> !l.startsWith("specs") && !l.isBlank() && !l.equals("(absent)"))
                .collect(java.util.stream.Collectors.joining("\n"));
        return KilnProject.treeDigest(kiln.resolve("repo.snapshots")) + KilnProject.treeDigest(kiln.resolve("repo"))
                + KilnProject.treeDigest(kiln.resolve("builds")) + sources;
    }

    /**
     * Runs {@code args}, expects exit 2 with one error line holding every fragment and no stack
     * trace, and nothing changed: no record, no cache entry, no repository change.
     */
    private static KilnProject.Result refused(List<String> args, Map<String, String> env, String... fragments) {
        String before = state();
        KilnProject.Result r = project.run(args, env);
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(2);
        List<String> errors = r.stderr().lines().filter(l -> l.startsWith("kiln: ")).toList();
        assertThat(errors).as(r.describe()).hasSize(1);
        for (String fragment : fragments) {
            assertThat(errors.getFirst()).as(r.describe()).contains(fragment);
        }
        assertThat(r.stderr() + r.stdout()).as(r.describe()).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(state()).as("repository, records and cache unchanged").isEqualTo(before);
        return r;
    }

    /** None of {@code secrets} in the outputs, nor in any file under .kiln/ (the key's own folder aside), RPM payloads unpacked. */
    private static void nothingLeaked(Set<String> secrets, KilnProject.Result... results) throws IOException {
        for (KilnProject.Result r : results) {
            for (String secret : secrets) {
                assertThat(r.stdout() + r.stderr()).as("output").doesNotContain(secret);
            }
        }
        Path kiln = project.root().resolve(".kiln");
        for (Map.Entry<String, String> file : readableFiles(kiln, kiln.resolve("keys")).entrySet()) {
            for (String secret : secrets) {
                assertThat(file.getValue()).as(file.getKey()).doesNotContain(secret);
            }
        }
    }

    /** Every regular file below {@code dir} as text (an RPM as its unpacked payload), skipping {@code skip}. */
    private static Map<String, String> readableFiles(Path dir, Path skip) throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).filter(p -> !p.startsWith(skip)).toList()) {
                String text = new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
                if (p.getFileName().toString().endsWith(".rpm")) {
                    text += unpacked(p);
                }
                files.put(p.toString(), text);
            }
        }
        return files;
    }

    /** The payload of an RPM, every file's content concatenated (rpm2cpio | cpio), so compression hides nothing. */
    private static String unpacked(Path rpm) throws IOException {
        Path out = Files.createTempDirectory(tmp, "payload");
        try {
            Process p = new ProcessBuilder("sh", "-c", "rpm2cpio \"$0\" | cpio -idm --quiet", rpm.toString())
                    .directory(out.toFile()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("unpack " + rpm + ": " + log).isTrue();
            StringBuilder all = new StringBuilder();
            try (Stream<Path> walk = Files.walk(out)) {
                for (Path f : walk.filter(Files::isRegularFile).toList()) {
                    all.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).append('\n');
                }
            }
            return all.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            KilnProject.deleteTree(out);
        }
    }

    private static Set<String> hostSecrets() {
        Set<String> all = new TreeSet<>(devKeySecretLines);
        all.addAll(shadowLines);
        return all;
    }

    private static final String NOT_A_FILE = "definitions are regular files inside their folder, never links";

    @Test
    void symlinkInTheSpecFolderToTheSigningKeyOrShadowIsRefusedNotRead() throws IOException {
        String spec = project.read("specs/hello/hello.spec");
        Path link = project.root().resolve("specs/hello/company.conf");
        try {
            for (Path target : List.of(devKey, Path.of("/etc/shadow"))) {
                Files.createSymbolicLink(link, target);
                // the spec even ships it, as a pull request would
                project.write("specs/hello/hello.spec", spec.replace("Source1:        hello.conf",
                        "Source1:        hello.conf\nSource2:        company.conf"));
                KilnProject.Result r = refused(List.of("build", "hello", "--force", "--no-publish"), Map.of(),
                        "specs/hello/company.conf is a symbolic link", NOT_A_FILE);
                nothingLeaked(hostSecrets(), r);
                Files.delete(link);
            }
        } finally {
            Files.deleteIfExists(link);
            project.write("specs/hello/hello.spec", spec);
        }
    }

    @Test
    void symlinkCommittedToGitIsRefusedAtARevision() throws IOException {
        Path link = project.root().resolve("specs/hello/company.conf");
        try {
            Files.createSymbolicLink(link, devKey);
            project.commit("a link to the signing key");
            KilnProject.Result r = refused(List.of("build", "hello", "--rev", "HEAD", "--force", "--no-publish"), Map.of(),
                    "specs/hello/company.conf is a symbolic link (committed at HEAD)", NOT_A_FILE);
            nothingLeaked(hostSecrets(), r);
        } finally {
            Files.deleteIfExists(link);
            project.commit("no link");
        }
    }

    @Test
    void symlinkedPackageFolderIsRefused() throws IOException {
        Path outside = Files.createDirectories(tmp.resolve("outside/evil"));
        Files.writeString(outside.resolve("evil.spec"), project.read("specs/hello/hello.spec").replace("hello", "evil"));
        Path link = project.root().resolve("specs/evil");
        try {
            Files.createSymbolicLink(link, outside);
            refused(List.of("build", "evil", "--no-publish"), Map.of(), "specs/evil is a symbolic link", NOT_A_FILE);
        } finally {
            Files.deleteIfExists(link);
        }
    }

    private static String fileSourceSpec(String name, URI source) {
        return """
                Name: %1$s
                Version: 1.0
                Release: 1
                Summary: A file: source
                License: MIT
                BuildArch: noarch
                Source0: %2$s#/%1$s-1.0.txt
                %%description
                Test.
                %%prep
                %%install
                install -D -m 0644 %%{SOURCE0} %%{buildroot}/usr/share/%1$s/%1$s.txt
                %%files
                /usr/share/%1$s/%1$s.txt
                """.formatted(name, source);
    }

    @Test
    void fileSourceOutsideTheConfiguredFolderIsRefusedAndItsChecksumNotShown() throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("sources"));
        Files.createSymbolicLink(folder.resolve("key.txt"), devKey);
        String keySha = SourceCache.sha512(devKey);
        project.write("specs/fetched/sources", "SHA512 (fetched-1.0.txt) = " + "ab".repeat(64) + "\n");
        try {
            project.write("specs/fetched/fetched.spec", fileSourceSpec("fetched", devKey.toUri()));
            KilnProject.Result none = refused(List.of("build", "fetched", "--no-publish"), Map.of(),
                    "specs/fetched/fetched.spec:7: Source0 " + devKey.toUri(), "file: sources read the build host and are refused",
                    "KILN_SOURCES_FOLDER");
            KilnProject.Result outside = refused(List.of("build", "fetched", "--no-publish"),
                    Map.of("KILN_SOURCES_FOLDER", folder.toString()), "is not a file inside sources.folder " + folder.toRealPath());
            project.write("specs/fetched/fetched.spec", fileSourceSpec("fetched", URI.create("file:///etc/shadow")));
            KilnProject.Result shadow = refused(List.of("build", "fetched", "--no-publish"),
                    Map.of("KILN_SOURCES_FOLDER", folder.toString()), "is not a file inside sources.folder");
            // a link inside the folder, or .., does not lead out of it
            project.write("specs/fetched/fetched.spec", fileSourceSpec("fetched", folder.resolve("key.txt").toUri()));
            KilnProject.Result viaLink = refused(List.of("build", "fetched", "--no-publish"),
                    Map.of("KILN_SOURCES_FOLDER", folder.toString()), "is not a file inside sources.folder");
            project.write("specs/fetched/fetched.spec", fileSourceSpec("fetched",
                    URI.create("file://" + folder + "/../project/.kiln/keys/signing-key.asc")));
            KilnProject.Result viaDots = refused(List.of("build", "fetched", "--no-publish"),
                    Map.of("KILN_SOURCES_FOLDER", folder.toString()), "is not a file inside sources.folder");
            Set<String> secrets = new TreeSet<>(hostSecrets());
            secrets.add(keySha);
            nothingLeaked(secrets, none, outside, shadow, viaLink, viaDots);
            // and the folder may not be set in kiln.yaml, which comes with the branch
            String yaml = project.read("kiln.yaml");
            try {
                project.write("kiln.yaml", yaml + "\nsources:\n  folder: /\n");
                refused(List.of("build", "fetched", "--no-publish"), Map.of(), "kiln.yaml: sources.folder is a setting of the build host");
            } finally {
                project.write("kiln.yaml", yaml);
            }
        } finally {
            KilnProject.deleteTree(project.root().resolve("specs/fetched"));
        }
    }

    @Test
    void fileSourceInsideTheConfiguredFolderBuilds() throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("allowed"));
        Path upstream = Files.writeString(folder.resolve("local-1.0.txt"), "upstream text from the allowed folder\n");
        project.write("specs/local/local.spec", fileSourceSpec("local", upstream.toUri()));
        project.write("specs/local/sources", "SHA512 (local-1.0.txt) = " + SourceCache.sha512(upstream) + "\n");
        String repository = KilnProject.treeDigest(project.root().resolve(".kiln/repo"));
        try {
            KilnProject.Result r = project.run(List.of("build", "local", "--no-publish"), Map.of("KILN_SOURCES_FOLDER", folder.toString()));
            assertThat(r.exitCode()).as(r.describe()).isZero();
            assertThat(r.stdout()).contains("Built local-1.0-1.noarch");
            assertThat(KilnProject.treeDigest(project.root().resolve(".kiln/repo"))).isEqualTo(repository);
        } finally {
            KilnProject.deleteTree(project.root().resolve("specs/local"));
        }
    }

    @Test
    void signingKeyAndPassphraseAppearNowhereAfterABuildPublishAndServe() throws Exception {
        String passphrase = "kiln-ci-passphrase-7f3a9c";
        Path keyFile = tmp.resolve("ci/signing-key.asc");
        KilnProject.Result gen = project.run(List.of("key", "generate"),
                Map.of("KILN_SIGNING_KEY", keyFile.toString(), "KILN_SIGNING_PASSPHRASE", passphrase));
        assertThat(gen.exitCode()).as(gen.describe()).isZero();
        String keyText = Files.readString(keyFile);
        Set<String> secrets = new TreeSet<>(secretLines(keyText, Files.readString(Path.of(keyFile + ".pub"))));
        secrets.add(passphrase);
        List<KilnProject.Result> results = new ArrayList<>(List.of(gen));

        // on the command line it is refused, and the message does not echo it
        results.add(refused(List.of("build", "hello", "--signing.key=" + keyText), Map.of(), "holds key material",
                "KILN_SIGNING_KEY"));
        results.add(refused(List.of("build", "hello", "--signing.passphrase=" + passphrase), Map.of(),
                "--signing.passphrase is a secret and never goes on the command line"));

        // from the environment it signs; a new package so something is built and published
        project.write("specs/cisigned/cisigned.spec", """
                Name: cisigned
                Version: 1.0
                Release: 1
                Summary: Signed with a key from the environment
                License: MIT
                BuildArch: noarch
                %description
                Test.
                %install
                mkdir -p %{buildroot}/usr/share/cisigned
                echo signed in CI > %{buildroot}/usr/share/cisigned/cisigned.txt
                %files
                /usr/share/cisigned/cisigned.txt
                """);
        try {
            Map<String, String> ci = Map.of("KILN_SIGNING_KEY", keyText, "KILN_SIGNING_PASSPHRASE", passphrase);
            KilnProject.Result build = project.run(List.of("build", "cisigned", "--json", "--jobs", "1"), ci);
            assertThat(build.exitCode()).as(build.describe()).isZero();
            results.add(build);
            Path provenance;
            try (Stream<Path> files = Files.list(project.repository().resolve("Packages"))) {
                provenance = files.filter(p -> p.getFileName().toString().startsWith("cisigned-"))
                        .filter(p -> p.toString().endsWith(".provenance.json")).findFirst().orElseThrow();
            }
            assertThat(Files.readString(provenance)).as("the command is recorded").contains("\"cisigned\"").contains("\"--jobs=1\"");

            nothingLeaked(secrets, results.toArray(KilnProject.Result[]::new));
            for (Map.Entry<String, String> served : servedFiles().entrySet()) {
                for (String secret : secrets) {
                    assertThat(served.getValue()).as("served " + served.getKey()).doesNotContain(secret);
                }
            }
        } finally {
            KilnProject.deleteTree(project.root().resolve("specs/cisigned"));
        }
    }

    /** Every file of the published repository as {@code ./kiln repo serve} sends it over HTTP, RPMs unpacked. */
    private static Map<String, String> servedFiles() throws Exception {
        Process serve = project.start(List.of("repo", "serve", "--port", "0"), Map.of());
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(serve.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("Serving ")) {
                // wait for the address
            }
            assertThat(line).as("repo serve started").isNotNull();
            URI base = URI.create(line.substring(line.indexOf(" at ") + 4, line.indexOf(" (Ctrl-C")).replaceAll("/*$", "/"));
            Path root = project.repository().toRealPath();
            Map<String, String> served = new LinkedHashMap<>();
            HttpClient http = HttpClient.newHttpClient();
            List<Path> files;
            try (Stream<Path> walk = Files.walk(root)) {
                files = walk.filter(Files::isRegularFile).toList();
            }
            assertThat(files).as("published files").hasSizeGreaterThan(5);
            for (Path file : files) {
                String relative = root.relativize(file).toString();
                HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(base.resolve(relative)).GET().build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                if (relative.startsWith(".") || relative.contains("/.")) {
                    // The repository's bookkeeping (leases, retained metadata) is read from disk above, never served.
                    assertThat(response.statusCode()).as(relative).isEqualTo(404);
                    continue;
                }
                assertThat(response.statusCode()).as(relative).isEqualTo(200);
                String text = new String(response.body(), StandardCharsets.ISO_8859_1);
                if (relative.endsWith(".rpm")) {
                    Path copy = Files.write(Files.createTempFile(tmp, "served", ".rpm"), response.body());
                    text += unpacked(copy);
                    Files.delete(copy);
                }
                served.put(relative, text);
            }
            return served;
        } finally {
            serve.destroy();
            serve.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void limitsOutOfRangeAreOneLineBeforeAnyRecordOrContainer() {
        refused(List.of("build", "hello", "--force"), Map.of("KILN_BUILD_MEMORY", "0"), "build.memory '0' is out of range: give 64m to 1024g");
        refused(List.of("build", "hello", "--force"), Map.of("KILN_BUILD_MEMORY", "4m"), "build.memory '4m' is out of range");
        refused(List.of("build", "hello", "--force"), Map.of("KILN_BUILD_MEMORY", "99999999999g"),
                "build.memory '99999999999g' is out of range");
        refused(List.of("build", "hello", "--force"), Map.of("KILN_BUILD_TIMEOUT", "0s"), "build.timeout '0s' is out of range: give 1s to 168h");
        refused(List.of("build", "hello", "--force"), Map.of("KILN_BUILD_PIDS", "99999999999"),
                "build.pids '99999999999' is out of range: give 16 to 4194304");
    }

    @Test
    void specNameThatDiffersFromItsFolderIsBadInputNotACrash() {
        project.write("specs/misnamed/misnamed.spec", project.read("specs/hello/hello.spec")
                .replace("Name:           hello", "Name:           other"));
        try {
            refused(List.of("build", "misnamed"), Map.of(),
                    "specs/misnamed/misnamed.spec: Name is 'other' but the folder is specs/misnamed/: make them the same");
        } finally {
            KilnProject.deleteTree(project.root().resolve("specs/misnamed"));
        }
    }

    @Test
    void systemFoldersAndForeignLinksAreRefusedAsTheRepository() throws IOException {
        refused(List.of("build", "hello", "--force", "--repository", "/etc/kiln-repo"), Map.of(),
                "repository /etc/kiln-repo is a system folder");
        assertThat(Path.of("/etc/kiln-repo")).doesNotExist();
        assertThat(Path.of("/etc/kiln-repo.snapshots")).doesNotExist();
        Path usr = Files.createSymbolicLink(tmp.resolve("repo-to-usr"), Path.of("/usr"));
        refused(List.of("build", "hello", "--force"), Map.of("KILN_REPOSITORY", usr.toString()), "(/usr) is a system folder");
        // a link to some other folder is not a repository either: it would be served and written
        Path foreign = Files.createDirectories(tmp.resolve("home/.ssh"));
        Files.writeString(foreign.resolve("id_ed25519"), "PRIVATE-SSH-KEY");
        String foreignBefore = KilnProject.treeDigest(foreign);
        Path link = Files.createSymbolicLink(project.root().resolve(".kiln/other-repo"), foreign);
        try {
            refused(List.of("build", "hello", "--force"), Map.of("KILN_REPOSITORY", link.toString()),
                    "repository link " + link + " does not point to one of its snapshots");
            refused(List.of("repo", "list"), Map.of("KILN_REPOSITORY", link.toString()), "does not point to one of its snapshots");
            assertThat(KilnProject.treeDigest(foreign)).isEqualTo(foreignBefore);
        } finally {
            Files.delete(link);
        }
    }
}
