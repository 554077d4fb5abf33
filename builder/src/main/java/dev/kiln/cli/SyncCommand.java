package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.Bandwidth;
import dev.kiln.repo.Replica;
import dev.kiln.repo.ReplicaSource;
import dev.kiln.repo.Replication;
import dev.kiln.repo.Targets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** {@code kiln repo sync --from T --to T2...}: makes other sites serve what one serves, byte for byte. */
@Configuration(proxyBeanMethods = false)
class SyncCommand {

    static final int DEFAULT_JOBS = 4;
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    @Bean
    KilnCommand repoSync() {
        return new KilnCommand("repo sync", "Make other targets serve what one target serves, copying only what differs", "", 0, 0,
                List.of(KilnCommand.Opt.value("from", "NAME", "the target of kiln.yaml to copy from (a directory or WebDAV target)"),
                        KilnCommand.Opt.value("to", "NAME", "a target to make match it; repeat for several"),
                        KilnCommand.Opt.value("jobs", "N", "transfers at once (default " + DEFAULT_JOBS + ")"),
                        KilnCommand.Opt.value("max-rate", "RATE", "cap on the bytes written per second over all transfers (2M = 2 MiB/s)"),
                        KilnCommand.Opt.value("timeout", "SECONDS", "how long a request may stall before it is retried (default "
                                + DEFAULT_TIMEOUT.toSeconds() + ")"),
                        KilnCommand.Opt.JSON)) {
            @Override
            protected int run(Invocation invocation, Output out) {
                String fromName = invocation.value("from").orElseThrow(() -> KilnException.badInput(
                        "repo sync: --from NAME is required: the target of kiln.yaml to copy from"));
                List<String> toNames = invocation.values("to");
                if (toNames.isEmpty()) {
                    throw KilnException.badInput("repo sync: --to NAME is required: a target of kiln.yaml to make match " + fromName);
                }
                int jobs = invocation.value("jobs").map(v -> whole("jobs", v, 1, 64)).orElse(DEFAULT_JOBS);
                Bandwidth bandwidth = invocation.value("max-rate").map(v -> {
                    try {
                        return Bandwidth.parse(v);
                    } catch (KilnException e) {
                        throw KilnException.badInput("repo sync: " + e.getMessage());
                    }
                }).orElse(Bandwidth.UNLIMITED);
                Duration timeout = invocation.value("timeout").map(v -> Duration.ofSeconds(whole("timeout", v, 1, 3600)))
                        .orElse(DEFAULT_TIMEOUT);
                KilnConfig config = config(invocation);
                TargetConfig from = target(config, "from", fromName);
                List<TargetConfig> to = new ArrayList<>();
                for (String name : toNames) {
                    TargetConfig target = target(config, "to", name);
                    if (target.name().equals(from.name())) {
                        throw KilnException.badInput("repo sync: --to " + name + " is the source itself: name other targets");
                    }
                    if (to.stream().noneMatch(t -> t.name().equals(target.name()))) {
                        to.add(target);
                    }
                }
                Map<String, String> env = System.getenv();
                // every destination opened (and a manager refused) before anything is read or written
                List<Replica> replicas = new ArrayList<>();
                List<Replication.Outcome> outcomes;
                long started = System.nanoTime();
                Path scratch = scratch(config);
                try (ReplicaSource source = Targets.source(from, env, config.cache(), timeout)) {
                    for (TargetConfig target : to) {
                        replicas.add(Targets.replica(target, env, config.cache(), timeout));
                    }
                    outcomes = new Replication(source, jobs, bandwidth, scratch).run(replicas);
                } finally {
                    replicas.forEach(Replica::close);
                    deleteTree(scratch);
                }
                long millis = (System.nanoTime() - started) / 1_000_000;
                int exit = 0;
                for (Replication.Outcome o : outcomes) {
                    if (o instanceof Replication.Outcome.Failed f) {
                        exit = exit == KilnException.ENVIRONMENT ? exit : f.exitCode();
                    }
                }
                if (invocation.flag("json")) {
                    Map<String, Object> doc = new LinkedHashMap<>();
                    doc.put("source", from.name());
                    doc.put("ok", exit == 0);
                    doc.put("targets", outcomes.stream().map(SyncCommand::json).toList());
                    doc.put("millis", millis);
                    out.json(doc);
                }
                for (Replication.Outcome o : outcomes) {
                    switch (o) {
                        case Replication.Outcome.Synced s -> {
                            if (!invocation.flag("json")) {
                                out.result((s.copied() == 0 ? "Target " + s.target() + " already matches " + from.name() + ": "
                                        : "Synced target " + s.target() + " from " + from.name() + ": ") + s.compared()
                                        + " file(s) compared, " + s.copied() + " copied (" + s.bytes() + " bytes)"
                                        + (s.metadataChanged() ? ", metadata replaced" : "") + ", " + s.millis() + " ms");
                            }
                        }
                        case Replication.Outcome.Failed f -> out.error(f.message());
                    }
                }
                return exit;
            }
        };
    }

    private static Map<String, Object> json(Replication.Outcome outcome) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("target", outcome.target());
        switch (outcome) {
            case Replication.Outcome.Synced s -> {
                doc.put("ok", true);
                doc.put("compared", s.compared());
                doc.put("copied", s.copied());
                doc.put("bytes", s.bytes());
                doc.put("metadataChanged", s.metadataChanged());
                doc.put("millis", s.millis());
            }
            case Replication.Outcome.Failed f -> {
                doc.put("ok", false);
                doc.put("exitCode", f.exitCode());
                doc.put("error", f.message());
            }
        }
        return doc;
    }

    private static TargetConfig target(KilnConfig config, String option, String name) {
        return config.targets().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow(() -> KilnException.badInput(
                "repo sync: --" + option + " '" + name + "' is not a target of kiln.yaml: known are "
                        + config.targets().stream().map(TargetConfig::name).toList()));
    }

    /** A whole number option in {@code [min, max]}, else one line and exit 2 naming it. */
    static int whole(String option, String value, int min, int max) {
        try {
            int n = Integer.parseInt(value.strip());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw KilnException.badInput("repo sync: --" + option + " '" + value + "' is not a whole number from " + min + " to " + max);
    }

    private static Path scratch(KilnConfig config) {
        try {
            return Files.createTempDirectory(Files.createDirectories(config.cache()), "sync-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a scratch folder in " + config.cache(), e);
        }
    }

    private static void deleteTree(Path root) {
        try (var walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a scratch folder left in the cache costs disk only
        }
    }
}
