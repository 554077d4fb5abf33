package dev.kiln.cli;

import org.jline.utils.AttributedString;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.shell.core.command.CommandParser;
import org.springframework.shell.core.command.CommandRegistry;
import org.springframework.shell.jline.PromptProvider;

/** The interactive shell uses Kiln's strict parser and its own prompt. */
@Configuration(proxyBeanMethods = false)
class ShellConfiguration {

    @Bean
    CommandParser commandParser(CommandRegistry registry) {
        return new StrictCommandParser(registry);
    }

    @Bean
    PromptProvider promptProvider() {
        return () -> new AttributedString("kiln:> ");
    }
}
