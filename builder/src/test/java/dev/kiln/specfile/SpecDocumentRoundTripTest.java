package dev.kiln.specfile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SpecDocumentRoundTripTest {

    static java.util.List<String> corpus() {
        return SpecCorpus.names();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void rendersEveryCorpusSpecUneditedByteForByte(String name) throws Exception {
        SpecCorpus.assumePresent();
        byte[] original = Files.readAllBytes(SpecCorpus.path(name));
        SpecDocument doc = SpecDocument.parse(name, new String(original, StandardCharsets.UTF_8));
        assertThat(doc.render().getBytes(StandardCharsets.UTF_8)).isEqualTo(original);
        assertThat(doc.patches()).as("every corpus spec has a Patch tag").isNotEmpty();
    }
}
