package dev.kiln.container;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Prints what one build container costs for a trivial command (create, copy in, run, copy out, remove). */
class ContainerOverheadIT {

    @Test
    void measuresContainerRoundTripOverhead() throws Exception {
        String image = TestEngine.rpmBuilder().imageId();
        Map<String, ContainerArchive.Content> files = Map.of("in/hello.txt", ContainerArchive.Content.of("hello\n".getBytes(StandardCharsets.UTF_8)));
        ContainerLimits limits = new ContainerLimits(256L << 20, 64, Duration.ofMinutes(1));
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            java.nio.file.Path out = java.nio.file.Files.createTempDirectory("kiln-overhead");
            long t0 = System.nanoTime();
            try (BuildContainer c = BuildContainer.create(TestEngine.engine(), image, limits,
                    List.of("sh", "-c", "mkdir out && cp in/hello.txt out/"), TestEngine.env(Map.of()),
                    BuildContainer.Exchange.into("/home/builder").andBack("/home/builder/out"))) {
                BuildContainer.Result r = c.run(files, line -> { }, out);
                assertThat(r.exitCode()).isZero();
                assertThat(r.files()).hasSize(1);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (i > 0) { // the first round warms up the JVM and the connection pool
                millis.add(ms);
            }
        }
        List<Long> sorted = millis.stream().sorted().toList();
        System.out.println("FIGURE container create+run with a tar in and out+remove ms, 5 runs: " + millis + " median " + sorted.get(2));
        assertThat(TestEngine.leftoverBuildContainers()).isEmpty();
    }
}
