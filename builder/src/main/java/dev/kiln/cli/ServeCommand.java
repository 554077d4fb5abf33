package dev.kiln.cli;

import dev.kiln.config.KilnConfig;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.service.ApiServer;
import dev.kiln.service.ServiceDatabase;
import dev.kiln.service.ServiceMetrics;
import dev.kiln.service.TokenStore;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** {@code kiln serve}: the service's API, signed in with the tokens of {@code kiln token create}. */
@Configuration(proxyBeanMethods = false)
class ServeCommand {

    /** The API's port when none is given. */
    static final int DEFAULT_PORT = 8470;

    @Bean
    KilnCommand serve() {
        return new KilnCommand("serve", "Run Kiln's service: its API, for clients with a token, until interrupted", "", 0, 0, List.of(
                KilnCommand.Opt.value("port", "N", "TCP port (default " + DEFAULT_PORT + "; 0 picks a free one)"),
                KilnCommand.Opt.value("bind", "ADDRESS", "address to listen on (default 127.0.0.1; put a TLS proxy in front for others)"),
                KilnCommand.Opt.flag("json", "print one JSON document (the API's URL) once serving"))) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                int port = invocation.value("port").map(RepoCommands::parsePort).orElse(DEFAULT_PORT);
                String bind = invocation.value("bind").orElse("127.0.0.1");
                // created once for the life of the service and handed to what serves requests
                DirectoryRepository repository = new DirectoryRepository(config.repository());
                ServiceMetrics metrics = new ServiceMetrics();
                try (ServiceDatabase db = TokenCommands.database(config);
                        ApiServer server = ApiServer.start(bind, port, new TokenStore(db, Clock.systemUTC()), repository::list, metrics,
                                Clock.systemUTC())) {
                    if (invocation.flag("json")) {
                        Map<String, Object> doc = new LinkedHashMap<>();
                        doc.put("url", server.uri().toString());
                        doc.put("openapi", server.uri().resolve("api/v1/openapi.json").toString());
                        doc.put("metrics", server.uri().resolve("metrics").toString());
                        out.json(doc);
                    } else {
                        out.result("Kiln's service at " + server.uri() + " (API: " + server.uri().resolve("api/v1/openapi.json")
                                + "; Ctrl-C stops)");
                    }
                    RepoCommands.untilStopped();
                }
                return 0;
            }
        };
    }
}
