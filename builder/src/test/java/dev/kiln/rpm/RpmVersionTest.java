package dev.kiln.rpm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RpmVersionTest {

    /** Cases from rpm's own test suite (tests/rpmvercmp.at). */
    @ParameterizedTest
    @CsvSource({
        "1.0, 1.0, 0", "1.0, 2.0, -1", "2.0, 1.0, 1", "2.0.1, 2.0.1, 0", "2.0, 2.0.1, -1", "2.0.1, 2.0, 1",
        "2.0.1a, 2.0.1a, 0", "2.0.1a, 2.0.1, 1", "2.0.1, 2.0.1a, -1", "5.5p1, 5.5p1, 0", "5.5p1, 5.5p2, -1",
        "5.5p10, 5.5p1, 1", "10xyz, 10.1xyz, -1", "xyz10, xyz10.1, -1", "xyz.4, 8, -1", "1.0010, 1.9, 1",
        "1.05, 1.5, 0", "1.0, 1, 1", "a, 1, -1", "1, a, 1", "2.50, 2.5, 1", "fc4, fc.4, 0", "3.0.0_fc, 3.0.0.fc, 0",
        "1~rc1, 1, -1", "1, 1~rc1, 1", "1~rc1, 1~rc2, -1", "1.0~rc1, 1.0~rc1, 0", "1.0^, 1.0, 1", "1.0, 1.0^, -1",
        "1.0^git1, 1.0^git2, -1", "1.0^git1, 1.01, -1", "1.0~rc1^git1, 1.0~rc1, 1", "6.0.rc1, 6.0, 1", "3.9.9, 3.9.10, -1"
    })
    void comparesLikeRpmvercmp(String a, String b, int expected) {
        assertThat(RpmVersion.compare(a, b)).isEqualTo(expected);
    }
}
