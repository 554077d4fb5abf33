package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import org.junit.jupiter.api.Test;

class SyncCommandTest {

    @Test
    void jobsAndTimeoutAreWholeNumbersInTheirRange() {
        assertThat(SyncCommand.whole("jobs", " 8 ", 1, 64)).isEqualTo(8);
        for (String bad : new String[] {"0", "65", "four", "2.5"}) {
            assertThatThrownBy(() -> SyncCommand.whole("jobs", bad, 1, 64)).isInstanceOf(KilnException.class)
                    .hasMessage("repo sync: --jobs '" + bad + "' is not a whole number from 1 to 64");
        }
    }
}
