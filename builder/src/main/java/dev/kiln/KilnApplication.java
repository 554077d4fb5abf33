package dev.kiln;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** Entry point: the exit code is whatever the command run decided. */
@SpringBootApplication
public class KilnApplication {

    public static void main(String[] args) {
        ConfigurableApplicationContext context = SpringApplication.run(KilnApplication.class, args);
        // After Ctrl-C or SIGTERM, Spring's shutdown hook closes the context, and SpringApplication.exit
        // would print a stack trace about it. The command has printed its one line by then, and the
        // JVM exits with the signal's status once the hooks are done.
        System.exit(ExitHook.stopping() || !context.isActive() ? KilnException.INTERRUPTED : SpringApplication.exit(context));
    }

}
