package dev.kiln.cli;

import java.util.LinkedHashSet;
import org.jline.utils.AttributedString;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Lazy;
import org.springframework.shell.core.command.Command;
import org.springframework.shell.core.command.CommandParser;
import org.springframework.shell.core.command.CommandRegistry;
import org.springframework.shell.jline.PromptProvider;

/** The interactive shell uses Kiln's strict parser and its own prompt. */
@Configuration(proxyBeanMethods = false)
class ShellConfiguration {

    /**
     * Kiln's commands, made only when a command line is resolved (not for {@code --version}).
     * Spring Shell's own registry is a SmartInitializingSingleton, which lazy initialization leaves
     * eager: it would make every command bean and scan the application's classes for annotated
     * commands (Kiln has none) at each start. The shell's quit command is added when the
     * interactive shell opens (KilnRunner): it starts Bean Validation, which one-shot commands never use.
     */
    @Bean
    @Lazy
    CommandRegistry commandRegistry(ApplicationContext context) {
        return new CommandRegistry(new LinkedHashSet<>(context.getBeansOfType(Command.class).values()));
    }

    @Bean
    CommandParser commandParser(CommandRegistry registry) {
        return new StrictCommandParser(registry);
    }

    @Bean
    PromptProvider promptProvider() {
        return () -> new AttributedString("kiln:> ");
    }
}
