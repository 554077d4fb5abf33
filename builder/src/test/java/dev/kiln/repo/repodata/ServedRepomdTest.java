package dev.kiln.repo.repodata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ServedRepomdTest {

    /** As createrepo_c 0.17 writes it with --checksum sha512 (two of its entries, checksums shortened). */
    private static final String CREATEREPO = """
            <?xml version="1.0" encoding="UTF-8"?>
            <repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
              <revision>1796196400</revision>
              <data type="primary">
                <checksum type="sha512">4067ecc5</checksum>
                <open-checksum type="sha512">7f566167</open-checksum>
                <location href="repodata/4067ecc5-primary.xml.gz"/>
                <timestamp>1796196400</timestamp>
                <size>134</size>
                <open-size>167</open-size>
              </data>
              <data type="primary_db">
                <checksum type="sha512">1479d97f</checksum>
                <open-checksum type="sha512">8245476a</open-checksum>
                <location href="repodata/1479d97f-primary.sqlite.bz2"/>
                <timestamp>1796196460</timestamp>
                <size>1386</size>
                <open-size>106496</open-size>
                <database_version>10</database_version>
              </data>
            </repomd>
            """;

    @Test
    void readsEveryDocumentWithTheChecksumOfTheFileNotItsOpenChecksum() throws IOException {
        ServedRepomd repomd = ServedRepomd.read(CREATEREPO.getBytes(StandardCharsets.UTF_8));
        assertThat(repomd.revision()).isEqualTo("1796196400");
        assertThat(repomd.documents()).extracting(ServedRepomd.Document::type).containsExactly("primary", "primary_db");
        ServedRepomd.Document primary = repomd.document("primary").orElseThrow();
        assertThat(primary.checksumType()).isEqualTo("sha512");
        assertThat(primary.checksum()).isEqualTo("4067ecc5");
        assertThat(primary.href()).isEqualTo("repodata/4067ecc5-primary.xml.gz");
    }

    @Test
    void theNewestPublishIsTheNewestDocumentTimestamp() throws IOException {
        ServedRepomd repomd = ServedRepomd.read(CREATEREPO.getBytes(StandardCharsets.UTF_8));
        assertThat(repomd.newestPublish()).contains(Instant.ofEpochSecond(1796196460));
    }

    @Test
    void withoutDocumentTimestampsTheRevisionIsThePublishTime() throws IOException {
        ServedRepomd repomd = ServedRepomd.read(CREATEREPO.replaceAll("<timestamp>[0-9]+</timestamp>", "")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(repomd.newestPublish()).contains(Instant.ofEpochSecond(1796196400));
    }

    @Test
    void refusesADocumentThatIsNotRepomd() {
        assertThatThrownBy(() -> ServedRepomd.read("<html><body>Welcome to nginx</body></html>".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class).hasMessageContaining("not a repomd document");
        assertThatThrownBy(() -> ServedRepomd.read("<repomd><data type=\"primary\"></data></repomd>".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class).hasMessageContaining("lacks its type, checksum or location");
    }
}
