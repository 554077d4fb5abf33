package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RetainedMetadataTest {

    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final Duration HOUR = Duration.ofHours(1);

    @Test
    void keepsTheReplacedRepomdsFilesAsSupersededNow() {
        RetainedMetadata next = RetainedMetadata.NONE.next(List.of("repodata/a-primary.xml.gz", "repodata/a-other.xml.gz"), T0, HOUR);
        assertThat(next.supersededAt()).isEqualTo(Map.of("repodata/a-primary.xml.gz", T0, "repodata/a-other.xml.gz", T0));
    }

    @Test
    void countsTheGraceFromWhenAFileWasSupersededAndDropsItAfterwards() {
        RetainedMetadata first = RetainedMetadata.NONE.next(List.of("repodata/a.xml.gz"), T0, HOUR);
        RetainedMetadata second = first.next(List.of("repodata/b.xml.gz"), T0.plus(HOUR), HOUR);
        assertThat(second.supersededAt()).containsOnlyKeys("repodata/a.xml.gz", "repodata/b.xml.gz"); // exactly at the edge: kept
        RetainedMetadata third = second.next(List.of("repodata/c.xml.gz"), T0.plus(HOUR).plusSeconds(1), HOUR);
        assertThat(third.supersededAt()).containsOnlyKeys("repodata/b.xml.gz", "repodata/c.xml.gz");
        assertThat(third.supersededAt().get("repodata/b.xml.gz")).isEqualTo(T0.plus(HOUR));
    }

    @Test
    void withNoGraceKeepsOnlyTheRepomdJustReplaced() {
        RetainedMetadata first = RetainedMetadata.NONE.next(List.of("repodata/a.xml.gz"), T0, Duration.ZERO);
        RetainedMetadata second = first.next(List.of("repodata/b.xml.gz"), T0.plusMillis(1), Duration.ZERO);
        assertThat(second.supersededAt()).containsOnlyKeys("repodata/b.xml.gz");
    }

    @Test
    void aRepositoryUnchangedForAWeekStillGivesItsLastRepomdAFullGrace() {
        // The files were written a week ago; what counts is that they are replaced now.
        RetainedMetadata next = RetainedMetadata.NONE.next(List.of("repodata/old.xml.gz"), T0.plus(Duration.ofDays(7)), HOUR);
        assertThat(next.next(List.of(), T0.plus(Duration.ofDays(7)).plus(Duration.ofMinutes(59)), HOUR).supersededAt())
                .containsOnlyKeys("repodata/old.xml.gz");
    }

    @Test
    void rendersAndParsesBackTheSameRecord() {
        RetainedMetadata record = new RetainedMetadata(Map.of("repodata/a.xml.gz", T0, "repodata/b.xml.gz", T0.plusNanos(1234)));
        assertThat(RetainedMetadata.parse(record.render())).isEqualTo(record);
        assertThat(record.render()).isEqualTo("2026-12-01T10:00:00Z repodata/a.xml.gz\n2026-12-01T10:00:00.000001234Z repodata/b.xml.gz\n");
    }

    @Test
    void parsingSkipsLinesThatAreNotPlainRepodataFiles() {
        assertThat(RetainedMetadata.parse("""
                2026-12-01T10:00:00Z repodata/../../etc/passwd
                2026-12-01T10:00:00Z Packages/x.rpm
                yesterday repodata/a.xml.gz
                no-space
                2026-12-01T10:00:00Z repodata/ok.xml.gz
                """).supersededAt()).isEqualTo(Map.of("repodata/ok.xml.gz", T0));
    }

    @Test
    void withoutDropsTheGivenPaths() {
        RetainedMetadata record = new RetainedMetadata(Map.of("repodata/a.xml.gz", T0, "repodata/b.xml.gz", T0));
        assertThat(record.without(Set.of("repodata/a.xml.gz")).supersededAt()).containsOnlyKeys("repodata/b.xml.gz");
    }

    @Test
    void readsTheDataLocationsOfARepomdAndOnlyPlainRepodataFiles() throws IOException {
        String repomd = """
                <?xml version="1.0" encoding="UTF-8"?>
                <repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
                  <revision>1</revision>
                  <data type="primary"><checksum type="sha256">aa</checksum><location href="repodata/1-primary.xml.gz"/></data>
                  <data type="filelists"><location href="repodata/1-filelists.xml.gz"/></data>
                  <data type="other"><location href="repodata/../../../etc/shadow"/></data>
                  <data type="group"><location href="/etc/passwd"/></data>
                  <data type="updateinfo"><location href="http://example.com/repodata/x.xml.gz"/></data>
                </repomd>
                """;
        assertThat(RetainedMetadata.locations(repomd.getBytes(StandardCharsets.UTF_8)))
                .containsExactly("repodata/1-primary.xml.gz", "repodata/1-filelists.xml.gz");
    }

    @Test
    void refusesARepomdWithADoctype() {
        String repomd = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><repomd>&x;</repomd>";
        assertThatThrownBy(() -> RetainedMetadata.locations(repomd.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class).hasMessageContaining("repomd.xml does not parse");
    }
}
