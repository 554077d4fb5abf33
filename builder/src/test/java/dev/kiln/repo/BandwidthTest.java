package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import org.junit.jupiter.api.Test;

class BandwidthTest {

    @Test
    void readsRatesInBinaryUnits() {
        assertThat(Bandwidth.parse("2M").bytesPerSecond()).isEqualTo(2L << 20);
        assertThat(Bandwidth.parse("500K").bytesPerSecond()).isEqualTo(500L << 10);
        assertThat(Bandwidth.parse("1.5m").bytesPerSecond()).isEqualTo(3L << 19);
        assertThat(Bandwidth.parse("1G").bytesPerSecond()).isEqualTo(1L << 30);
        assertThat(Bandwidth.parse("4MiB/s").bytesPerSecond()).isEqualTo(4L << 20);
        assertThat(Bandwidth.parse("65536").bytesPerSecond()).isEqualTo(65536);
    }

    @Test
    void refusesWhatIsNotARateNamingTheValue() {
        for (String bad : new String[] {"fast", "", "-1M", "2X", "0", "100", "1M2"}) {
            assertThatThrownBy(() -> Bandwidth.parse(bad)).as(bad).isInstanceOf(KilnException.class)
                    .hasMessageStartingWith("--max-rate '" + bad + "' is not a transfer rate")
                    .satisfies(e -> assertThat(((KilnException) e).exitCode()).isEqualTo(KilnException.BAD_INPUT));
        }
    }

    @Test
    void anUncappedStreamIsTheStreamItself() {
        var in = new java.io.ByteArrayInputStream(new byte[3]);
        assertThat(Bandwidth.UNLIMITED.throttle(in)).isSameAs(in);
        assertThat(Bandwidth.of(0)).isSameAs(Bandwidth.UNLIMITED);
    }
}
