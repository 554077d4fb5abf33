package dev.kiln;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** Entry point: the exit code is whatever the command run decided. */
@SpringBootApplication
public class KilnApplication {

    public static void main(String[] args) {
        System.exit(SpringApplication.exit(SpringApplication.run(KilnApplication.class, args)));
    }
}
