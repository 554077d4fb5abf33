package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.container.DockerEngine;
import dev.kiln.git.SourceMirror;
import dev.kiln.pipeline.BuildListener;
import dev.kiln.pipeline.BuildService;
import dev.kiln.pipeline.Keys;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.repo.RepositoryCheck;
import dev.kiln.rpm.SigningKey;
import dev.kiln.service.ApiServer;
import dev.kiln.service.BuildLogs;
import dev.kiln.service.BuildNotifier;
import dev.kiln.service.BuildQueue;
import dev.kiln.service.BuildRunner;
import dev.kiln.service.BuildsApi;
import dev.kiln.service.ServiceBuild;
import dev.kiln.service.ServiceCanary;
import dev.kiln.service.ServiceDatabase;
import dev.kiln.service.ServiceMetrics;
import dev.kiln.service.TokenStore;
import dev.kiln.service.Webhooks;
import java.net.URI;
import java.nio.file.Files;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code kiln serve}: the service. It holds, for its whole life, one engine connection, the
 * signing key, the packaging repository's clone and the build queue, and serves the API to
 * clients with a token. Nothing a request does changes the host: starting an engine and creating
 * a key happen only with {@code --setup}.
 */
@Configuration(proxyBeanMethods = false)
class ServeCommand {

    /** The API's port when none is given. */
    static final int DEFAULT_PORT = 8470;

    @Bean
    KilnCommand serve() {
        return new KilnCommand("serve", "Run Kiln's service: its build queue and API, for clients with a token, until interrupted", "", 0, 0,
                List.of(KilnCommand.Opt.value("port", "N", "TCP port (default " + DEFAULT_PORT + "; 0 picks a free one)"),
                        KilnCommand.Opt.value("bind", "ADDRESS", "address to listen on (default 127.0.0.1; put a TLS proxy in front for others)"),
                        KilnCommand.Opt.flag("setup", "first start a Docker engine, create the development key and build the builder image"
                                + " when missing"),
                        KilnCommand.Opt.flag("json", "print one JSON document (the API's URL) once serving"))) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                int port = invocation.value("port").map(RepoCommands::parsePort).orElse(DEFAULT_PORT);
                String bind = invocation.value("bind").orElse("127.0.0.1");
                BuildListener say = Progress.to(out);
                // created once for the life of the service and handed to what serves requests
                SigningKey key = invocation.flag("setup") ? Keys.loadOrCreate(config.signing(), config.state(), say) : key(config);
                try (DockerEngine engine = invocation.flag("setup") ? DockerEngine.connect(config.state(), say::notice)
                                : DockerEngine.reachable(config.state(), say::notice).orElseThrow(() -> KilnException.environment(
                                        "no Docker engine answers: start one (sudo dockerd &), or run ./kiln serve --setup once"));
                        SourceMirror source = SourceMirror.open(config.service().repository(),
                                config.state().resolve("service").resolve("source"), config.root());
                        ServiceDatabase db = TokenCommands.database(config)) {
                    if (invocation.flag("setup")) {
                        Optional<String> head = source.head();
                        if (head.isPresent()) {
                            BuildService.prepareBuilder(config.withRoot(source.root()), head.get(), say, engine);
                        } else {
                            say.notice("the packaging repository has no commit yet: its builder image is built by the next"
                                    + " ./kiln serve --setup after the first commit");
                        }
                    }
                    serve(invocation, out, config, engine, key, source, db, bind, port);
                }
                return 0;
            }
        };
    }

    /** Serves until stopped: the runner, the API and the webhooks on what {@code run} made once. */
    private static void serve(Invocation invocation, Output out, KilnConfig config, DockerEngine engine, SigningKey key,
            SourceMirror source, ServiceDatabase db, String bind, int port) {
        DirectoryRepository repository = new DirectoryRepository(config.repository());
        ServiceMetrics metrics = new ServiceMetrics();
        metrics.releaseTarget(config.target(Optional.empty()).name());
        // the API's URL, for the build's URL in a notification: service.url, or once it serves, its own address
        AtomicReference<URI> api = new AtomicReference<>();
        Consumer<ServiceBuild> ended = BuildNotifier.of(config.service().notifyUrl(), System.getenv(),
                () -> Optional.ofNullable(api.get()));
        try (BuildRunner runner = new BuildRunner(config, source, new BuildQueue(db, Clock.systemUTC()),
                        new BuildLogs(config.state().resolve("service").resolve("logs")), new BuildService.Resident(engine, key),
                        metrics, System.getenv(), ended).start();
                ApiServer server = ApiServer.start(bind, port, new TokenStore(db, Clock.systemUTC()), repository::list,
                        metrics, Clock.systemUTC(), Optional.of(new BuildsApi(runner, config.records())),
                        Optional.of(new Webhooks(System.getenv(), runner, source, config.service().releaseBranch(), config.builder())));
                ServiceCanary canary = ServiceCanary.start(config, new RepositoryCheck(key, Clock.systemUTC()), metrics, System.getenv())) {
            api.set(config.service().url().orElse(server.uri()));
            if (invocation.flag("json")) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("url", server.uri().toString());
                doc.put("openapi", server.uri().resolve("api/v1/openapi.json").toString());
                doc.put("concurrentBuilds", config.service().builds());
                doc.put("source", config.service().repository().orElse(config.root().toString()));
                doc.put("metrics", server.uri().resolve("metrics").toString());
                out.json(doc);
            } else {
                out.result("Kiln's service at " + server.uri() + " (API: " + server.uri().resolve("api/v1/openapi.json")
                        + "; " + config.service().builds() + " build(s) at once; Ctrl-C stops)");
            }
            RepoCommands.untilStopped();
        }
    }

    /** The configured key, which must exist: a request never creates one. */
    private static SigningKey key(KilnConfig config) {
        if (!config.signing().isText() && !Files.exists(config.signing().key())) {
            throw KilnException.environment("no signing key at " + config.signing().key() + ": set KILN_SIGNING_KEY to the company's key,"
                    + " or run ./kiln serve --setup once to create a development key");
        }
        return Keys.load(config.signing());
    }
}
