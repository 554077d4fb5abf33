package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The build queue against a real embedded H2 database file. */
class BuildQueueTest extends BuildQueueCases {

    @Override
    protected ServiceDatabase open() {
        return ServiceDatabase.embedded(dir.resolve("service"));
    }

    /** Run in a child JVM: submits one build, then dies at once, as a kill -9 would end the service. */
    public static void main(String[] args) {
        ServiceDatabase db = ServiceDatabase.embedded(Path.of(args[0]));
        new BuildQueue(db, java.time.Clock.systemUTC()).submit(of("hello"), "pat");
        Runtime.getRuntime().halt(9);
    }

    @Test
    void aCommittedChangeSurvivesTheProcessDyingAtOnce() throws Exception {
        Path folder = dir.resolve("service");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int i = 0; i < 2; i++) {
            Process child = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), BuildQueueTest.class.getName(),
                    folder.toString()).redirectErrorStream(true).start();
            String output = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(child.waitFor()).as(output).isEqualTo(9);
        }
        assertThat(queue().queued()).as("both builds, committed just before each halt").hasSize(2);
    }
}
