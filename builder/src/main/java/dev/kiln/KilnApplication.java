package dev.kiln;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** Entry point: the exit code is whatever the command run decided. */
@SpringBootApplication
public class KilnApplication {

    public static void main(String[] args) {
        ConfigurableApplicationContext context = SpringApplication.run(KilnApplication.class, args);
        int exitCode;
        try {
            exitCode = SpringApplication.exit(context);
        } catch (IllegalStateException closedByShutdownHook) {
            // Ctrl-C or SIGTERM: Spring's shutdown hook closed the context first; the command has
            // printed its one line, and the JVM exits with the signal's status once the hooks are done.
            exitCode = KilnException.INTERRUPTED;
        }
        System.exit(exitCode);
    }
}
