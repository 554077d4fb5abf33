package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP server over a real published repository: bytes, lengths, 404s, traversal, snapshot swaps. */
class RepositoryServerIT {

    @TempDir
    static Path dir;
    static SigningKey key;
    static DirectoryRepository repo;
    static Path rpm1;
    static Path rpm2;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void publish() throws IOException {
        key = KeyGenerator.generate(dir.resolve("k.sec"), dir.resolve("k.pub"), "Kiln Test <t@kiln.dev>", new char[0]);
        rpm1 = TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-served", "1.0", "w19.zstdio");
        rpm2 = TestRpms.binary(Files.createTempDirectory(dir, "b"), "kiln-served", "2.0", "w19.zstdio");
        new RpmSigner(key).sign(rpm1);
        new RpmSigner(key).sign(rpm2);
        repo = new DirectoryRepository(dir.resolve("repo"));
        repo.publish(List.of(rpm1), key);
        Files.writeString(dir.resolve("secret.txt"), "do not serve");
    }

    @Test
    void servesFilesWithTheirLengthAndAnswersHead() throws Exception {
        try (RepositoryServer server = RepositoryServer.start(repo.location(), "127.0.0.1", 0)) {
            URI uri = server.uri().resolve("Packages/" + rpm1.getFileName());
            HttpResponse<byte[]> get = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(get.statusCode()).isEqualTo(200);
            assertThat(get.body()).isEqualTo(Files.readAllBytes(rpm1));
            assertThat(get.headers().firstValueAsLong("Content-Length")).hasValue(Files.size(rpm1));

            HttpResponse<byte[]> head = http.send(HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(Files.size(rpm1));
            assertThat(head.body()).isEmpty();

            assertThat(status(server.uri().resolve("repodata/repomd.xml"))).isEqualTo(200);
            assertThat(status(server.uri().resolve("nothing-here"))).isEqualTo(404);
            assertThat(status(server.uri().resolve("Packages/"))).isEqualTo(404);
            assertThat(http.send(HttpRequest.newBuilder(server.uri()).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(405);
        }
    }

    @Test
    void refusesPathsOutsideTheSnapshot() throws Exception {
        try (RepositoryServer server = RepositoryServer.start(repo.location(), "127.0.0.1", 0)) {
            // Raw requests: an HTTP client would normalise the dots away before sending.
            for (String path : List.of("/../../secret.txt", "/%2e%2e/%2e%2e/secret.txt", "/..%2f..%2fsecret.txt",
                    "/Packages/../../../secret.txt", "//etc/passwd", "/%2fetc%2fpasswd")) {
                assertThat(rawStatus(server.uri(), path)).as(path).isEqualTo(404);
            }
            assertThat(rawStatus(server.uri(), "/" + DirectoryRepository.PUBLIC_KEY_FILE)).isEqualTo(200);
        }
    }

    @Test
    void doesNotServeTheRepositorysOwnBookkeeping() throws Exception {
        repo.publish(List.of(rpm2), key); // a second publish records the first one's metadata as retained
        Path snapshot = repo.location().toRealPath();
        List<String> hidden;
        try (var files = Files.walk(snapshot)) {
            hidden = files.filter(Files::isRegularFile).map(f -> snapshot.relativize(f).toString())
                    .filter(rel -> rel.startsWith(".") || rel.contains("/.")).toList();
        }
        assertThat(hidden).as("lease and retained-metadata files exist").isNotEmpty();
        try (RepositoryServer server = RepositoryServer.start(repo.location(), "127.0.0.1", 0)) {
            for (String rel : hidden) {
                assertThat(rawStatus(server.uri(), "/" + rel)).as(rel).isEqualTo(404);
            }
            assertThat(rawStatus(server.uri(), "/repodata/repomd.xml")).isEqualTo(200);
        }
    }

    @Test
    void seesANewPublishOnTheNextRequest() throws Exception {
        DirectoryRepository swapped = new DirectoryRepository(dir.resolve("swap"));
        swapped.publish(List.of(rpm1), key);
        try (RepositoryServer server = RepositoryServer.start(swapped.location(), "127.0.0.1", 0)) {
            URI second = server.uri().resolve("Packages/" + rpm2.getFileName());
            assertThat(status(second)).isEqualTo(404);
            swapped.publish(List.of(rpm2), key);
            assertThat(status(second)).isEqualTo(200);
        }
    }

    private int status(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static int rawStatus(URI base, String path) throws IOException {
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            return Integer.parseInt(response.split(" ", 3)[1]);
        }
    }
}
