package dev.kiln.container;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A separate JVM that creates a build container and waits to be stopped, to prove Ctrl-C removes it. */
public final class HoldBuildContainer {

    public static void main(String[] args) throws Exception {
        DockerEngine engine = DockerEngine.connect(line -> { });
        BuildContainer c = BuildContainer.create(engine, args[0],
                new ContainerLimits(64L << 20, 16, Duration.ofMinutes(1)), List.of("sleep", "60"), Map.of("KILN_TEST_RUN", args[1]));
        System.out.println("container " + c.id());
        System.out.flush();
        Thread.sleep(Duration.ofMinutes(1));
    }
}
