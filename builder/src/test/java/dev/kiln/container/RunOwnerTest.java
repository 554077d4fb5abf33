package dev.kiln.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RunOwnerTest {

    private final RunOwner self = RunOwner.current().orElseThrow();

    @Test
    void labelRoundTrips() {
        assertThat(RunOwner.parse(self.label())).contains(self);
    }

    @Test
    void aRunningOwnerIsNotGone() {
        assertThat(self.gone()).isFalse();
    }

    @Test
    void anEndedProcessIsGone() throws Exception {
        Process p = new ProcessBuilder("true").start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(new RunOwner(self.boot(), self.pidNamespace(), p.pid(), self.started()).gone()).isTrue();
    }

    @Test
    void aReusedPidIsGoneBecauseItsStartTimeDiffers() {
        assertThat(new RunOwner(self.boot(), self.pidNamespace(), self.pid(), self.started() - 1).gone()).isTrue();
    }

    @Test
    void anOwnerOfAnotherBootOrPidNamespaceIsNeverJudged() {
        assertThat(new RunOwner("another-boot", self.pidNamespace(), 999_999_999L, 1).gone()).isFalse();
        assertThat(new RunOwner(self.boot(), "1", 999_999_999L, 1).gone()).isFalse();
    }

    @Test
    void labelsFromElsewhereAreNotOwners() {
        assertThat(RunOwner.parse(null)).isEmpty();
        assertThat(RunOwner.parse("true")).isEmpty();
        assertThat(RunOwner.parse("boot=x;pidns=1;pid=abc;start=2")).isEmpty();
    }
}
