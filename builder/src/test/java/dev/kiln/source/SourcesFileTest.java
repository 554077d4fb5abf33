package dev.kiln.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SourcesFileTest {

    @Test
    void readsDistGitLines() {
        String hex = "ab".repeat(64);
        SourcesFile f = SourcesFile.parse("specs/m/sources", "# comment\nSHA512 (m-1.tar.gz) = " + hex + "\n");
        assertThat(f.find("m-1.tar.gz")).get().extracting(SourcesFile.Entry::sha512).isEqualTo(hex);
        assertThat(f.find("other")).isEmpty();
    }

    @Test
    void refusesMalformedLineWithFileAndLine() {
        assertThatThrownBy(() -> SourcesFile.parse("specs/m/sources", "\nMD5 (m.tar.gz) = abc\n"))
                .hasMessageStartingWith("specs/m/sources:2: expected 'SHA512 (file) = <128 hex digits>'");
    }
}
