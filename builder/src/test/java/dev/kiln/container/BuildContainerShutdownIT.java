package dev.kiln.container;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class BuildContainerShutdownIT {

    @Test
    void stoppingTheJvmRemovesItsBuildContainer() throws Exception {
        String image = TestEngine.rpmBuilder().imageId();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                HoldBuildContainer.class.getName(), image, TestEngine.RUN_MARK.split("=", 2)[1]).redirectErrorStream(true).start();
        String line;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
            do {
                line = out.readLine();
            } while (line != null && !line.startsWith("container "));
            assertThat(line).as("child JVM output").isNotNull();
            assertThat(TestEngine.leftoverBuildContainers()).contains(line.substring("container ".length()));
            // SIGTERM, as a service manager sends; Ctrl-C's SIGINT runs the same shutdown hooks.
            child.destroy();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(TestEngine.leftoverBuildContainers()).isEmpty();
    }
}
