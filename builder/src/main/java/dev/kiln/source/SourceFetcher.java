package dev.kiln.source;

import dev.kiln.KilnException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Opens an upstream source by its location: {@code http(s)://} and {@code file:} URLs directly,
 * and {@code mvn:group:artifact:version[:type[:classifier]]} through Maven itself, so the
 * user's {@code settings.xml} (mirrors of Central in a Nexus or Artifactory, proxies,
 * credentials) is honoured exactly as for any Maven build.
 */
public final class SourceFetcher {

    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final String DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy";

    private final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(20))
            .build();

    /** Strips an rpm file-name fragment ({@code url#/name.tar.gz}) from a Source value. */
    public static String location(String sourceValue) {
        int fragment = sourceValue.indexOf("#/");
        return fragment < 0 ? sourceValue : sourceValue.substring(0, fragment);
    }

    public InputStream open(String sourceValue) throws IOException {
        String location = location(sourceValue);
        if (location.startsWith("mvn:")) {
            return fromMaven(location);
        }
        URI uri = URI.create(location);
        if ("file".equals(uri.getScheme())) {
            return Files.newInputStream(Path.of(uri));
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            throw new IOException("unsupported URL scheme in " + location + " (use https://, file: or mvn:)");
        }
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) {
                response.body().close();
                throw new IOException("HTTP " + response.statusCode());
            }
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private InputStream fromMaven(String location) throws IOException {
        String coordinates = location.substring("mvn:".length());
        String[] parts = coordinates.split(":");
        if (parts.length < 3 || parts.length > 5) {
            throw new IOException("'" + location + "' is not mvn:group:artifact:version[:type[:classifier]]");
        }
        Path out = Files.createTempDirectory("kiln-mvn");
        List<String> command = new ArrayList<>(List.of(mavenExecutable(), "-B", "-q", DEPENDENCY_PLUGIN,
                "-Dartifact=" + coordinates, "-DoutputDirectory=" + out, "-Dmdep.overWriteReleases=true"));
        Path log = out.resolveSibling(out.getFileName() + ".log");
        Process process = new ProcessBuilder(command).directory(out.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            if (!process.waitFor(TIMEOUT.toMinutes(), TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException("Maven did not finish resolving " + coordinates);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        List<Path> files;
        try (var listing = Files.list(out)) {
            files = listing.toList();
        }
        if (process.exitValue() != 0 || files.size() != 1) {
            deleteTree(out);
            String reason = output.lines().filter(l -> l.contains("ERROR")).findFirst().orElse(output.strip());
            throw new IOException("Maven could not resolve " + coordinates + ": " + reason);
        }
        Path file = files.get(0);
        return new FilterInputStream(Files.newInputStream(file)) {
            @Override
            public void close() throws IOException {
                super.close();
                deleteTree(out);
            }
        };
    }

    private static String mavenExecutable() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "mvn"))) {
                return Path.of(dir, "mvn").toString();
            }
        }
        throw KilnException.environment("mvn is not on PATH: Kiln fetches mvn: sources through Maven "
                + "(install it with `apt-get install -y maven`)");
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
