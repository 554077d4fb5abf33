package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.KilnProject;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The maven package from its real upstream distribution: the mvn: source is resolved by Maven
 * through the mirror in the user's settings.xml (here a local mirror that serves from the real
 * local repository and records what it was asked for), verified against specs/maven/sources,
 * and packaged under /opt/maven with the company config and patches.
 */
class MavenPackageIT {

    private static final String TARBALL = "org/apache/maven/apache-maven/3.9.9/apache-maven-3.9.9-bin.tar.gz";

    @TempDir
    Path tmp;

    @Test
    void buildsMavenFetchingItsSourceThroughTheSettingsMirror() throws Exception {
        Path realRepository = Path.of(System.getProperty("user.home"), ".m2", "repository");
        if (!Files.isRegularFile(realRepository.resolve(TARBALL))) {
            TestRpms.Run get = TestRpms.run("mvn", "-B", "-q", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get",
                    "-Dartifact=org.apache.maven:apache-maven:3.9.9:tar.gz:bin", "-Dtransitive=false");
            assertThat(get.exitCode()).as(get.output()).isZero();
        }
        List<String> requested = new CopyOnWriteArrayList<>();
        HttpServer mirror = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        mirror.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath().substring(1);
            requested.add(path);
            Path file = realRepository.resolve(path).normalize();
            if (!file.startsWith(realRepository) || !Files.isRegularFile(file)) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.sendResponseHeaders(200, Files.size(file));
                try (var out = exchange.getResponseBody()) {
                    Files.copy(file, out);
                }
            }
            exchange.close();
        });
        mirror.start();
        try {
            Path home = Files.createDirectories(tmp.resolve("home/.m2")).getParent();
            Files.writeString(home.resolve(".m2/settings.xml"), """
                    <settings>
                      <mirrors>
                        <mirror>
                          <id>company</id>
                          <url>http://127.0.0.1:%d/</url>
                          <mirrorOf>*</mirrorOf>
                        </mirror>
                      </mirrors>
                    </settings>
                    """.formatted(mirror.getAddress().getPort()));
            KilnProject project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
            KilnProject.Result r = project.run(List.of("build", "maven", "--json"),
                    Map.of("MAVEN_OPTS", "-Duser.home=" + home));
            assertThat(r.exitCode()).as(r.describe()).isZero();
            assertThat(requested).as("Maven fetched the upstream tarball through the settings.xml mirror").contains(TARBALL);

            JsonNode build = JsonMapper.builder().build().readTree(r.stdout()).get("builds").get(0);
            assertThat(build.get("nevra").asString()).isEqualTo("maven-3.9.9-1.noarch");
            Path rpm = Path.of(build.get("rpms").get(0).asString());
            assertThat(RpmFile.read(rpm).files()).extracting(RpmFile.Entry::path).contains(
                    "/opt/maven/bin/mvn", "/opt/maven/conf/settings.xml", "/opt/maven/lib",
                    "/etc/profile.d/maven.sh", "/usr/bin/mvn");
            assertThat(extract(rpm, "./opt/maven/conf/settings.xml")).contains("nexus.example.internal");
            assertThat(extract(rpm, "./opt/maven/bin/mvn")).as("company patch applied").contains("--enable-native-access=ALL-UNNAMED");
            assertThat(extract(rpm, "./opt/maven/conf/logging/simplelogger.properties")).contains("showDateTime=true");

            // The cache holds the verified tarball under its SHA-512: a second build fetches nothing.
            requested.clear();
            KilnProject.Result again = project.run(List.of("build", "maven", "--no-publish"), Map.of("MAVEN_OPTS", "-Duser.home=" + home));
            assertThat(again.exitCode()).as(again.describe()).isZero();
            assertThat(requested).isEmpty();
            assertThat(again.stderr()).doesNotContain("fetching");
        } finally {
            mirror.stop(0);
        }
    }

    private String extract(Path rpm, String member) throws IOException {
        TestRpms.Run run = TestRpms.run("sh", "-c", "rpm2cpio '" + rpm + "' | cpio -i --quiet --to-stdout '" + member + "'");
        assertThat(run.exitCode()).as(run.output()).isZero();
        return run.output();
    }
}
