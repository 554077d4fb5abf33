package dev.kiln.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourceCacheTest {

    @TempDir
    Path tmp;

    @Test
    void fetchesVerifiesAndNeverFetchesAgain() throws Exception {
        Path upstream = Files.writeString(tmp.resolve("up-1.tar.gz"), "upstream bytes");
        String sha = SourceCache.sha512(upstream);
        SourceCache cache = new SourceCache(tmp.resolve("cache"), new SourceFetcher(Optional.of(tmp.toRealPath())));
        List<String> said = new ArrayList<>();
        SourcesFile.Entry entry = new SourcesFile.Entry("up-1.tar.gz", sha, 1);
        Path cached = cache.obtain(entry, upstream.toUri().toString(), "specs/up/sources", said::add);
        assertThat(cached).hasContent("upstream bytes").isEqualTo(cache.pathOf(sha));
        Files.delete(upstream);
        assertThat(cache.obtain(entry, upstream.toUri().toString(), "specs/up/sources", said::add)).isEqualTo(cached);
        assertThat(said).hasSize(1);
    }

    @Test
    void mismatchShowsBothChecksumsAndCachesNothing() throws Exception {
        Path upstream = Files.writeString(tmp.resolve("up-1.tar.gz"), "tampered");
        String expected = "0".repeat(128);
        SourceCache cache = new SourceCache(tmp.resolve("cache"), new SourceFetcher(Optional.of(tmp.toRealPath())));
        assertThatThrownBy(() -> cache.obtain(new SourcesFile.Entry("up-1.tar.gz", expected, 1),
                upstream.toUri().toString(), "specs/up/sources", s -> { }))
                .isInstanceOf(KilnException.class)
                .hasMessageContaining(expected)
                .hasMessageContaining(SourceCache.sha512(upstream))
                .extracting(e -> ((KilnException) e).exitCode()).isEqualTo(2);
        try (var files = Files.walk(tmp.resolve("cache"))) {
            assertThat(files.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void addFetchesANewLocationOnceAndRecordsItsChecksum() throws Exception {
        Path upstream = Files.writeString(tmp.resolve("up-2.tar.gz"), "version 2");
        SourceCache cache = new SourceCache(tmp.resolve("cache"), new SourceFetcher(Optional.of(tmp.toRealPath())));
        List<String> said = new ArrayList<>();
        SourcesFile.Entry first = cache.add("up-2.tar.gz", upstream.toUri().toString(), said::add);
        assertThat(first.sha512()).isEqualTo(SourceCache.sha512(upstream));
        assertThat(cache.pathOf(first.sha512())).hasContent("version 2");
        Files.delete(upstream);
        SourcesFile.Entry again = cache.add("up-2.tar.gz", upstream.toUri().toString(), said::add);
        assertThat(again.sha512()).isEqualTo(first.sha512());
        assertThat(said).hasSize(2).last().asString().contains("in the cache from an earlier fetch");
    }

    @Test
    void addOfAnUnreachableLocationIsBadInputAndCachesNothing() throws Exception {
        SourceCache cache = new SourceCache(tmp.resolve("cache"), new SourceFetcher(Optional.of(tmp.toRealPath())));
        assertThatThrownBy(() -> cache.add("x-3.tar.gz", tmp.resolve("nothere/x-3.tar.gz").toUri().toString(), s -> { }))
                .isInstanceOf(KilnException.class).hasMessageContaining("cannot fetch");
    }
}
