package dev.kiln.source;

import dev.kiln.KilnException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Opens an upstream source by its location: {@code http(s)://} and {@code file:} URLs directly,
 * and {@code mvn:group:artifact:version[:type[:classifier]]} through Maven itself, so the
 * user's {@code settings.xml} (mirrors of Central in a Nexus or Artifactory, proxies,
 * credentials) is honoured exactly as for any Maven build.
 *
 * <p>A {@code file:} URL reads the build host, so it is refused unless the host names a folder for
 * such sources ({@code sources.folder}); then only regular files inside that folder are read, with
 * links and {@code ..} resolved first so neither leads out of it.
 */
public final class SourceFetcher {

    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final String DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy";

    private final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(20))
            .build();

    private final Optional<Path> fileFolder;

    /** @param fileFolder the real path of the one folder {@code file:} sources may come from; empty refuses them */
    public SourceFetcher(Optional<Path> fileFolder) {
        this.fileFolder = fileFolder;
    }

    /**
     * Refuses a location this fetcher would not open, before anything is read or created:
     * {@code where} names it for the message ({@code specs/x/x.spec:7: Source0}).
     */
    public void check(String where, String sourceValue) {
        String location = location(sourceValue);
        if (location.startsWith("mvn:")) {
            return;
        }
        URI uri;
        try {
            uri = new URI(location);
        } catch (URISyntaxException e) {
            throw KilnException.badInput(where + " '" + location + "' is not a URL (" + e.getReason()
                    + "): write it as https://..., mvn:... or a file name in the package folder");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (scheme.equals("file")) {
            localFile(where, uri);
        } else if (!scheme.equals("http") && !scheme.equals("https")) {
            throw KilnException.badInput(where + " " + location + ": unsupported URL scheme (use https://, mvn: or file:)");
        }
    }

    /** The real path of a {@code file:} source inside the configured folder, or bad input. */
    private Path localFile(String where, URI uri) {
        if (fileFolder.isEmpty()) {
            throw KilnException.badInput(where + " " + uri + ": file: sources read the build host and are refused unless "
                    + "sources.folder names the folder they may come from (set KILN_SOURCES_FOLDER on the build host)");
        }
        Path folder = fileFolder.get();
        String outside = where + " " + uri + " is not a file inside sources.folder " + folder
                + " (links and .. must not lead out of it): put the file there";
        Path path;
        try {
            path = Path.of(uri);
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            throw KilnException.badInput(where + " " + uri + " is not a file: URL of a local path (write file:///path)");
        }
        try {
            Path real = path.toRealPath();
            if (!real.startsWith(folder) || !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
                throw KilnException.badInput(outside);
            }
            return real;
        } catch (java.nio.file.NoSuchFileException e) {
            if (path.normalize().equals(path) && existingPrefixInside(path, folder)) {
                return path; // missing inside the folder: opening it says so, and tells nothing about the host
            }
            throw KilnException.badInput(outside);
        } catch (IOException e) {
            throw KilnException.badInput(outside);
        }
    }

    /** Whether the longest existing prefix of {@code path}, links resolved, lies inside {@code folder}. */
    private static boolean existingPrefixInside(Path path, Path folder) {
        Path existing = path;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        try {
            return existing != null && !Files.isSymbolicLink(existing) && existing.toRealPath().startsWith(folder);
        } catch (IOException e) {
            return false;
        }
    }

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
        check("source", sourceValue);
        URI uri = URI.create(location);
        if ("file".equalsIgnoreCase(uri.getScheme())) {
            // a real path, opened without following a link swapped in since the check
            return Files.newInputStream(localFile("source", uri), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
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
