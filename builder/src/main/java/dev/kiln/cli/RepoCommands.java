package dev.kiln.cli;

import dev.kiln.config.KilnConfig;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.repo.RepositoryServer;
import dev.kiln.rpm.Nevra;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** {@code kiln repo serve} and {@code kiln repo list}. */
@Configuration(proxyBeanMethods = false)
class RepoCommands {

    @Bean
    KilnCommand repoServe() {
        return new KilnCommand("repo serve", "Serve the repository over HTTP until interrupted", "", 0, 0, List.of(
                KilnCommand.Opt.value("port", "N", "TCP port (default: repo.port from kiln.yaml, 8080)"),
                KilnCommand.Opt.value("bind", "ADDRESS", "address to listen on (default 127.0.0.1; 0.0.0.0 for all)"))) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                int port = invocation.value("port").map(p -> parsePort(p)).orElse(config.servePort());
                String bind = invocation.value("bind").orElse("127.0.0.1");
                try (RepositoryServer server = RepositoryServer.start(config.repository(), bind, port)) {
                    out.result("Serving " + config.repository() + " at " + server.uri() + " (Ctrl-C stops)");
                    out.result("Install from it: " + DirectoryRepository.dnfInstallCommand(server.uri(), "<package>"));
                    CountDownLatch forever = new CountDownLatch(1);
                    Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown));
                    forever.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return 0;
            }
        };
    }

    private static int parsePort(String value) {
        try {
            int port = Integer.parseInt(value);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw dev.kiln.KilnException.badInput("repo serve: --port '" + value + "' is not a port number (0-65535)");
    }

    @Bean
    KilnCommand repoList() {
        return new KilnCommand("repo list", "List the packages published in the repository", "", 0, 0,
                List.of(KilnCommand.Opt.flag("json", "print one JSON document to stdout"))) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                List<Nevra> packages = new DirectoryRepository(config.repository()).list();
                if (invocation.flag("json")) {
                    out.json(java.util.Map.of("repository", config.repository().toString(),
                            "packages", packages.stream().map(Nevra::toString).toList()));
                    return 0;
                }
                if (packages.isEmpty()) {
                    out.result("No packages published in " + config.repository());
                }
                packages.forEach(n -> out.result(n.toString()));
                return 0;
            }
        };
    }
}
