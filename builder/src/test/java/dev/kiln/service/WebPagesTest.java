package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WebPagesTest {

    @Test
    void escapesEveryCharacterThatCouldEndTextOrAnAttribute() {
        assertThat(WebPages.esc("<a href=\"x\" title='y'>&amp;</a>"))
                .isEqualTo("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
        assertThat(WebPages.esc("hello-1.0-1.noarch")).isEqualTo("hello-1.0-1.noarch");
    }

    @Test
    void showsDurationsToATenthOfASecondUnderAMinuteThenInMinutesAndHours() {
        assertThat(WebPages.human(Duration.ofMillis(1234))).isEqualTo("1.2s");
        assertThat(WebPages.human(Duration.ofMillis(-5))).isEqualTo("0.0s");
        assertThat(WebPages.human(Duration.ofSeconds(65))).isEqualTo("1m 05s");
        assertThat(WebPages.human(Duration.ofMinutes(125))).isEqualTo("2h 05m");
    }
}
