package dev.kiln.cli;

import dev.kiln.config.KilnConfig;
import dev.kiln.config.TargetConfig;
import dev.kiln.pipeline.PublishService;
import dev.kiln.repo.Publication;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Targets;
import dev.kiln.repo.Verification;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.repo.RepositoryServer;
import dev.kiln.rpm.Nevra;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** {@code kiln repo serve}, {@code kiln repo list} and {@code kiln repo publish}. */
@Configuration(proxyBeanMethods = false)
class RepoCommands {

    /** A command on one target of kiln.yaml ({@code --target}, default the first; {@code --json}), open for its run. */
    private abstract static class OnTarget extends KilnCommand {

        OnTarget(String name, String summary) {
            super(name, summary, "", 0, 0, List.of(Opt.TARGET, Opt.JSON));
        }

        @Override
        protected final int run(Invocation invocation, Output out) {
            KilnConfig config = config(invocation);
            TargetConfig target = config.target(invocation.value("target"));
            try (PublishTarget opened = Targets.open(target, System.getenv(), config.cache())) {
                return run(invocation, out, config, target, opened);
            }
        }

        protected abstract int run(Invocation invocation, Output out, KilnConfig config, TargetConfig target, PublishTarget opened);
    }

    @Bean
    KilnCommand repoServe() {
        return new KilnCommand("repo serve", "Serve the repository over HTTP until interrupted", "", 0, 0, List.of(
                KilnCommand.Opt.value("port", "N", "TCP port (default: repo.port from kiln.yaml, 8080)"),
                KilnCommand.Opt.value("bind", "ADDRESS", "address to listen on (default 127.0.0.1; 0.0.0.0 for all)"),
                KilnCommand.Opt.value("target", "NAME", "a directory target of kiln.yaml (default: the repository folder)"),
                KilnCommand.Opt.flag("json", "print one JSON document (folder, URL, dnf command) once serving"))) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                int port = invocation.value("port").map(p -> parsePort(p)).orElse(config.servePort());
                String bind = invocation.value("bind").orElse("127.0.0.1");
                Path folder = config.repository();
                if (invocation.value("target").isPresent()) {
                    TargetConfig target = config.target(invocation.value("target"));
                    if (target.kind() != TargetConfig.Kind.DIRECTORY) {
                        throw dev.kiln.KilnException.badInput("repo serve: target " + target.name() + " (" + target.describe()
                                + ") is served by its own server: point dnf at it, or name a directory target");
                    }
                    folder = target.path().orElseThrow();
                }
                try (RepositoryServer server = RepositoryServer.start(folder, bind, port)) {
                    if (invocation.flag("json")) {
                        Map<String, Object> doc = new LinkedHashMap<>();
                        doc.put("repository", folder.toString());
                        doc.put("url", server.uri().toString());
                        doc.put("dnfInstall", DirectoryRepository.dnfInstallCommand(server.uri(), "<package>"));
                        out.json(doc);
                    } else {
                        out.result("Serving " + folder + " at " + server.uri() + " (Ctrl-C stops)");
                        out.result("Install from it: " + DirectoryRepository.dnfInstallCommand(server.uri(), "<package>"));
                    }
                    untilStopped();
                }
                return 0;
            }
        };
    }

    /** Returns when the process is asked to stop (Ctrl-C, SIGTERM): what a server command waits for. */
    static void untilStopped() {
        CountDownLatch stopping = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stopping::countDown));
        try {
            stopping.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static int parsePort(String value) {
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
        return new OnTarget("repo list", "List the packages published on a target") {
            @Override
            protected int run(Invocation invocation, Output out, KilnConfig config, TargetConfig target, PublishTarget opened) {
                List<Nevra> packages = opened.list();
                if (invocation.flag("json")) {
                    Map<String, Object> doc = new LinkedHashMap<>();
                    doc.put("target", target.name());
                    doc.put("location", target.describe());
                    if (target.kind() == TargetConfig.Kind.DIRECTORY) {
                        doc.put("repository", target.path().orElseThrow().toString());
                    }
                    doc.put("packages", packages.stream().map(Nevra::toString).toList());
                    out.json(doc);
                    return 0;
                }
                if (packages.isEmpty()) {
                    out.result("No packages published on target " + target.name() + " (" + target.describe() + ")");
                }
                packages.forEach(n -> out.result(n.toString()));
                return 0;
            }
        };
    }

    @Bean
    KilnCommand repoVerify() {
        return new OnTarget("repo verify", "Check every checksum and signature of what a target serves") {
            @Override
            protected int run(Invocation invocation, Output out, KilnConfig config, TargetConfig target, PublishTarget opened) {
                long started = System.nanoTime();
                Verification v = opened.verify(dev.kiln.pipeline.Keys.load(config.signing()));
                long millis = (System.nanoTime() - started) / 1_000_000;
                if (invocation.flag("json")) {
                    Map<String, Object> doc = new LinkedHashMap<>();
                    doc.put("target", target.name());
                    doc.put("ok", v.ok());
                    doc.put("packages", v.packages());
                    doc.put("metadataFiles", v.metadataFiles());
                    doc.put("problems", v.problems().stream().map(p -> Map.of("kind", p.kind(), "path", p.path(), "detail", p.detail())).toList());
                    doc.put("millis", millis);
                    out.json(doc);
                } else {
                    v.problems().forEach(p -> out.result(p.kind() + ": " + p.path() + " " + p.detail()));
                    out.result((v.ok() ? "OK: " : v.problems().size() + " problem(s): ") + "target " + target.name() + " ("
                            + target.describe() + "), " + v.packages() + " package(s) and " + v.metadataFiles()
                            + " metadata file(s) checked in " + millis + " ms");
                }
                return v.ok() ? 0 : 1;
            }
        };
    }

    @Bean
    KilnCommand repoPublish() {
        return new KilnCommand("repo publish", "Publish RPM files (a vendor's, or built elsewhere) to a target", "RPM...", 1,
                Integer.MAX_VALUE, List.of(
                        KilnCommand.Opt.TARGET,
                        KilnCommand.Opt.flag("sign", "sign copies of binary RPMs not signed by the company key first"),
                        KilnCommand.Opt.JSON)) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                List<Path> rpms = invocation.arguments().stream().map(a -> Path.of(a).toAbsolutePath().normalize()).toList();
                PublishService.Result result = new PublishService(config, System.getenv(), Progress.to(out))
                        .publish(rpms, invocation.value("target"), invocation.flag("sign"));
                Publication p = result.publication();
                if (invocation.flag("json")) {
                    Map<String, Object> doc = new LinkedHashMap<>();
                    doc.put("target", result.target().name());
                    doc.put("location", result.target().describe());
                    doc.put("added", p.added());
                    doc.put("unchanged", p.unchanged());
                    doc.put("signed", result.signed());
                    doc.put("metadataChanged", p.metadataChanged());
                    doc.put("millis", result.millis());
                    out.json(doc);
                    return 0;
                }
                result.signed().forEach(s -> out.result("Signed a copy of " + s + " with the company key"));
                p.added().forEach(a -> out.result("Published " + a));
                p.unchanged().forEach(u -> out.result("Already published with the same bytes: " + u));
                out.result((p.metadataChanged() ? "Target " : "Nothing new for target ") + result.target().name() + " ("
                        + result.target().describe() + ")" + (p.metadataChanged() ? " now lists them" : "; its metadata is unchanged")
                        + ", " + result.millis() + " ms");
                return 0;
            }
        };
    }
}
