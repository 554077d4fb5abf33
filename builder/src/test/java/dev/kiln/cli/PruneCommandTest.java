package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code repo prune}'s refusals of bad {@code --keep} values, made before any project or target is read. */
class PruneCommandTest {

    private final KilnCommand prune = new PruneCommand().repoPrune();
    private final Output out = Output.to(new PrintStream(OutputStream.nullOutputStream()), new PrintStream(OutputStream.nullOutputStream()));

    @Test
    void aMissingZeroNegativeOrNonNumericKeepIsOneBadInputLineNamingKeep() {
        for (List<String> tokens : List.of(List.<String>of(), List.of("--keep", "0"), List.of("--keep=-3"), List.of("--keep=two"),
                List.of("--keep", " "))) {
            assertThatThrownBy(() -> prune.execute(tokens, out)).as(tokens.toString())
                    .isInstanceOfSatisfying(KilnException.class, e -> org.assertj.core.api.Assertions.assertThat(e.exitCode())
                            .isEqualTo(KilnException.BAD_INPUT))
                    .hasMessageContaining("--keep").hasMessageNotContaining("\n");
        }
    }
}
