package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Following a build's log file: each read returns only what was written since, whole lines only. */
class BuildLogsTest {

    @TempDir
    Path dir;

    @Test
    void aFollowerReadsEachEventOnceInOrderAndALineOnlyOnceItEnds() throws Exception {
        BuildLogs logs = new BuildLogs(dir);
        try (BuildLogs.Follower follower = logs.follow(7, 1)) {
            assertThat(follower.next()).as("nothing written yet").isEmpty();
            BuildLogs.Live live = logs.open(7);
            live.append("stage", "Start: one");
            live.append("log", "first line");
            assertThat(follower.next()).extracting(BuildLogs.Event::index, BuildLogs.Event::kind, BuildLogs.Event::text)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, "log", "first line"));
            assertThat(follower.next()).as("read once").isEmpty();

            Files.writeString(dir.resolve("7.log"), "log\thalf a li", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            assertThat(follower.next()).as("a line still being written").isEmpty();
            Files.writeString(dir.resolve("7.log"), "ne\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            assertThat(follower.next()).extracting(BuildLogs.Event::index, BuildLogs.Event::text)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(2L, "half a line"));
            live.append("notice", "done: \u00e9t\u00e9");
            assertThat(follower.next()).singleElement().satisfies(e -> {
                assertThat(e.index()).isEqualTo(3);
                assertThat(e.text()).isEqualTo("done: \u00e9t\u00e9");
                assertThat(e.at()).isPresent();
            });
            logs.close(7);
        }
        assertThat(logs.read(7, 0)).extracting(BuildLogs.Event::kind).containsExactly("stage", "log", "log", "notice");
    }
}
