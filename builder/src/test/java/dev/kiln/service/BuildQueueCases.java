package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build queue against a real database (each subclass opens its own kind: the embedded H2 file,
 * a PostgreSQL server), and the fair choice of the next build.
 */
abstract class BuildQueueCases {

    @TempDir
    Path dir;
    private final List<ServiceDatabase> opened = new ArrayList<>();
    private final TokenStoreCases.MovableClock clock = new TokenStoreCases.MovableClock();

    /** Opens the test's one database once more (each call as another process would). */
    protected abstract ServiceDatabase open();

    protected BuildQueue queue() {
        ServiceDatabase db = open();
        opened.add(db);
        return new BuildQueue(db, clock);
    }

    @AfterEach
    void close() {
        opened.forEach(ServiceDatabase::close);
    }

    static BuildQueue.Submission of(String pkg) {
        return new BuildQueue.Submission(List.of(pkg), Optional.empty(), "main", "0".repeat(40), ServiceBuild.Mode.SCRATCH, false,
                Optional.empty());
    }

    @Test
    void aBuildGoesFromQueuedToRunningToItsEndOnceAndTheAuditLogSaysWhoAskedAndWhoCancelled() {
        BuildQueue q = queue();
        ServiceBuild b = q.submit(of("hello"), "pat");
        assertThat(b.state()).isEqualTo(ServiceBuild.State.QUEUED);
        clock.now = clock.now.plusSeconds(3);
        assertThat(q.start(b.id())).isTrue();
        assertThat(q.start(b.id())).as("started once").isFalse();
        ServiceBuild running = q.get(b.id()).orElseThrow();
        assertThat(running.attempt()).isEqualTo(1);
        assertThat(running.waited(clock.now)).isEqualTo(Duration.ofSeconds(3));
        assertThat(q.finish(b.id(), ServiceBuild.State.SUCCEEDED, 0, null, "{\"ok\":true}")).isTrue();
        assertThat(q.finish(b.id(), ServiceBuild.State.FAILED, 1, "again", null)).as("ends once").isFalse();
        assertThat(q.cancel(b.id(), "sam", "too late")).as("an ended build is not cancelled").isEmpty();
        assertThat(q.get(b.id()).orElseThrow().result()).contains("{\"ok\":true}");

        ServiceBuild other = q.submit(of("libgreet"), "pat");
        assertThat(q.cancel(other.id(), "sam", "cancelled by sam")).contains(ServiceBuild.State.QUEUED);
        assertThat(q.start(other.id())).as("a cancelled build never starts").isFalse();
        assertThat(Audit.read(opened.getFirst())).extracting(Audit.Event::actor, Audit.Event::action)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("pat", "build.scratch"),
                        org.assertj.core.groups.Tuple.tuple("pat", "build.scratch"),
                        org.assertj.core.groups.Tuple.tuple("sam", "build.cancel"));
    }

    @Test
    void afterAStopARunningBuildStartsOnceMoreAndASecondInterruptionFailsIt() {
        BuildQueue q = queue();
        ServiceBuild b = q.submit(of("hello"), "pat");
        q.start(b.id());
        close();
        opened.clear();

        BuildQueue reopened = queue();
        assertThat(reopened.recover()).extracting(ServiceBuild::id).containsExactly(b.id());
        ServiceBuild again = reopened.get(b.id()).orElseThrow();
        assertThat(again.state()).isEqualTo(ServiceBuild.State.QUEUED);
        assertThat(again.message()).hasValueSatisfying(m -> assertThat(m).contains("interrupted"));
        assertThat(reopened.start(b.id())).isTrue();
        assertThat(reopened.get(b.id()).orElseThrow().attempt()).isEqualTo(2);

        reopened.recover();
        ServiceBuild failed = reopened.get(b.id()).orElseThrow();
        assertThat(failed.state()).isEqualTo(ServiceBuild.State.FAILED);
        assertThat(failed.message()).hasValueSatisfying(m -> assertThat(m).contains("interrupted twice"));
        assertThat(reopened.queued()).isEmpty();
    }

    @Test
    void theNextBuildIsOfTheSubmitterWithFewestRunningSoAMassRebuildDoesNotStarveASingleBuild() {
        BuildQueue q = queue();
        List<ServiceBuild> mass = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            mass.add(q.submit(of("pkg" + i), "robot"));
        }
        ServiceBuild single = q.submit(of("hello"), "pat");
        List<ServiceBuild> queued = q.queued();
        assertThat(BuildRunner.fairest(queued, List.of())).contains(mass.getFirst());
        ServiceBuild robotRuns = q.submit(of("other"), "robot");
        ServiceBuild patRuns = q.submit(of("another"), "pat");
        assertThat(BuildRunner.fairest(queued, List.of(robotRuns)).map(ServiceBuild::id)).contains(single.id());
        assertThat(BuildRunner.fairest(queued, List.of(robotRuns, patRuns)).map(ServiceBuild::id)).contains(mass.getFirst().id());
        assertThat(BuildRunner.fairest(List.of(), List.of())).isEmpty();
    }

    @Test
    void aSecondBuildOfAPackageWaitsForTheRunningOne() {
        BuildQueue q = queue();
        ServiceBuild running = q.submit(of("hello"), "pat");
        ServiceBuild again = q.submit(of("hello"), "sam");
        ServiceBuild other = q.submit(of("libgreet"), "sam");
        assertThat(BuildRunner.fairest(List.of(again, other), List.of(running))).contains(other);
        assertThat(BuildRunner.fairest(List.of(again), List.of(running))).isEmpty();
        assertThat(BuildRunner.fairest(List.of(again), List.of(other))).contains(again);
    }
}
