package dev.kiln.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourceFetcherTest {

    @TempDir
    Path tmp;

    private Path folder;
    private Path secret;

    @BeforeEach
    void folders() throws Exception {
        folder = Files.createDirectories(tmp.resolve("sources")).toRealPath();
        secret = Files.writeString(tmp.resolve("secret.asc"), "TOPSECRET");
        Files.writeString(folder.resolve("up-1.tar.gz"), "upstream");
    }

    private static void refused(SourceFetcher fetcher, String location, String message) {
        assertThatThrownBy(() -> fetcher.check("specs/x/x.spec:7: Source0", location))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessageContaining(message)
                .hasMessageNotContaining("TOPSECRET");
        assertThatThrownBy(() -> fetcher.open(location).close()).isInstanceOf(KilnException.class)
                .hasMessageContaining(message.replace("specs/x/x.spec:7: Source0 ", ""));
    }

    @Test
    void fileUrlsAreRefusedWhenNoFolderIsConfigured() {
        SourceFetcher none = new SourceFetcher(Optional.empty());
        refused(none, "file:///etc/shadow", "specs/x/x.spec:7: Source0 file:///etc/shadow: file: sources read the build host "
                + "and are refused unless sources.folder names the folder they may come from (set KILN_SOURCES_FOLDER on the build host)");
        refused(none, folder.resolve("up-1.tar.gz").toUri().toString(), "file: sources read the build host");
        refused(none, "FILE:///etc/passwd#/passwd", "file: sources read the build host");
    }

    @Test
    void fileUrlsOutsideTheFolderAreRefusedAlsoThroughDotDotAndLinks() throws Exception {
        SourceFetcher fetcher = new SourceFetcher(Optional.of(folder));
        String outside = "is not a file inside sources.folder " + folder + " (links and .. must not lead out of it)";
        refused(fetcher, secret.toUri().toString(), outside);
        refused(fetcher, "file://" + folder + "/../secret.asc", outside);
        refused(fetcher, "file:///etc/shadow", outside);
        Files.createSymbolicLink(folder.resolve("key.tar.gz"), secret);
        refused(fetcher, folder.resolve("key.tar.gz").toUri().toString(), outside);
        Files.createSymbolicLink(folder.resolve("up"), tmp);
        refused(fetcher, "file://" + folder + "/up/secret.asc", outside);
        refused(fetcher, "file://" + folder + "/up/missing.tar.gz", outside);
        refused(fetcher, folder.toUri().toString(), outside); // the folder itself is not a file
        refused(fetcher, "file:relative.tar.gz", "is not a file: URL of a local path");
    }

    @Test
    void fileUrlsInsideTheFolderAreRead() throws Exception {
        SourceFetcher fetcher = new SourceFetcher(Optional.of(folder));
        fetcher.check("Source0", folder.resolve("up-1.tar.gz").toUri() + "#/up-1.tar.gz");
        try (InputStream in = fetcher.open(folder.resolve("up-1.tar.gz").toUri().toString())) {
            assertThat(new String(in.readAllBytes())).isEqualTo("upstream");
        }
        // a link that stays inside the folder is fine: it is the real path that counts
        Files.createSymbolicLink(folder.resolve("alias.tar.gz"), folder.resolve("up-1.tar.gz"));
        try (InputStream in = fetcher.open(folder.resolve("alias.tar.gz").toUri().toString())) {
            assertThat(new String(in.readAllBytes())).isEqualTo("upstream");
        }
    }

    @Test
    void otherSchemesAndMalformedUrlsAreBadInput() {
        SourceFetcher fetcher = new SourceFetcher(Optional.empty());
        refused(fetcher, "ftp://example.com/x.tar.gz", "unsupported URL scheme");
        refused(fetcher, "jar:file:///etc/shadow!/x", "unsupported URL scheme");
        refused(fetcher, "https://exa mple.com/x.tar.gz", "is not a URL");
        fetcher.check("Source0", "https://example.com/x.tar.gz");
        fetcher.check("Source0", "mvn:org.example:x:1.0");
    }
}
