package dev.kiln.rpm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NevraTest {

    @Test
    void rendersLikeRpmWithAndWithoutEpoch() {
        assertThat(new Nevra("bash", "", "5.2.15", "3.el9", "x86_64")).hasToString("bash-5.2.15-3.el9.x86_64");
        assertThat(new Nevra("perl-Foo", "4", "1.0", "1.fc41", "noarch")).hasToString("perl-Foo-4:1.0-1.fc41.noarch");
        assertThat(new Nevra("x", null, "1", "1", "noarch").epoch()).isEmpty();
    }

    @Test
    void parsesWhatItRendersWithDashesInTheNameAndDotsInTheRelease() {
        for (Nevra n : java.util.List.of(new Nevra("bash", "", "5.2.15", "3.el9", "x86_64"),
                new Nevra("perl-Foo-Bar", "4", "1.0", "1.fc41", "noarch"), new Nevra("libstdc++", "", "13.2", "1.rb1", "i686"))) {
            assertThat(Nevra.parse(n.toString())).isEqualTo(n);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Nevra.parse("noversion.noarch"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
