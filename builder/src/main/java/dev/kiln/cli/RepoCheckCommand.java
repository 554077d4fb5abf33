package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.CheckMetrics;
import dev.kiln.repo.CheckReport;
import dev.kiln.repo.RepositoryCheck;
import dev.kiln.rpm.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code kiln repo check}: the canary. Reads a target as a user's dnf does and reports every
 * problem; {@code --metrics} leaves the result for node-exporter's textfile collector.
 */
@Configuration(proxyBeanMethods = false)
class RepoCheckCommand {

    @Bean
    KilnCommand repoCheck() {
        return new KilnCommand("repo check", "Check a target as a user's dnf reads it (a canary for monitoring)", "", 0, 0, List.of(
                KilnCommand.Opt.TARGET,
                KilnCommand.Opt.flag("install", "also install every latest package into an empty root with dnf"),
                KilnCommand.Opt.value("metrics", "FILE", "write Prometheus metrics to FILE (node-exporter textfile collector)"),
                KilnCommand.Opt.value("replica", "NAME", "a target that mirrors this one: measure how far it is behind (repeatable)"),
                KilnCommand.Opt.value("public-key", "FILE", "check signatures with this public key instead of the signing key (no secret needed)"),
                KilnCommand.Opt.JSON)) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                TargetConfig target = config.target(invocation.value("target"));
                List<TargetConfig> replicas = new ArrayList<>();
                for (String name : invocation.values("replica")) {
                    TargetConfig replica = config.target(Optional.of(name));
                    if (replica.name().equals(target.name())) {
                        throw KilnException.badInput("repo check: --replica " + name + " is the checked target itself: name another target of kiln.yaml");
                    }
                    replicas.add(replica);
                }
                Optional<Path> metrics = invocation.value("metrics").map(m -> metricsFile(m));
                boolean install = invocation.flag("install");
                // a monitoring host should not hold the release key: its public half verifies as well
                SigningKey key = invocation.value("public-key").map(k -> SigningKey.publicOnly(Path.of(k).toAbsolutePath()))
                        .orElseGet(() -> dev.kiln.pipeline.Keys.load(config.signing()));
                CheckReport report = new RepositoryCheck(key, Clock.systemUTC()).run(target, replicas, install, System.getenv(), config.cache(),
                        config.cache().resolve("check"));
                render(report, target, metrics, invocation.flag("json"), out);
                // after the report, so a metrics folder that refuses the file does not hide what the check found
                metrics.ifPresent(file -> CheckMetrics.write(file, report, Instant.now()));
                return report.unreachable().isPresent() ? KilnException.ENVIRONMENT : report.ok() ? 0 : 1;
            }
        };
    }

    /** The metrics file, refused before anything is checked when its folder is not there. */
    private static Path metricsFile(String value) {
        Path file = Path.of(value).toAbsolutePath().normalize();
        if (!Files.isDirectory(file.getParent())) {
            throw KilnException.badInput("repo check: --metrics " + value + ": folder " + file.getParent()
                    + " does not exist: create it, or name a file in the textfile collector's folder");
        }
        if (Files.isDirectory(file)) {
            throw KilnException.badInput("repo check: --metrics " + value + " is a folder: name a file in it, e.g. " + file.resolve("kiln-repo.prom"));
        }
        return file;
    }

    private static void render(CheckReport report, TargetConfig target, Optional<Path> metrics, boolean json, Output out) {
        Instant now = Instant.now();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("target", report.target());
            doc.put("location", target.describe());
            doc.put("url", report.url().toString());
            doc.put("ok", report.ok());
            doc.put("reachable", report.unreachable().isEmpty());
            report.unreachable().ifPresent(u -> doc.put("error", u));
            doc.put("packagesChecked", report.packagesChecked());
            doc.put("metadataFiles", report.metadataFiles());
            doc.put("newestPublish", report.newestPublish().map(Instant::toString).orElse(null));
            doc.put("newestPublishAgeSeconds", report.newestPublish().map(n -> Duration.between(n, now).toSeconds()).orElse(null));
            doc.put("failures", report.failures().stream()
                    .map(f -> Map.of("kind", f.kind().label(), "path", f.path(), "detail", f.detail())).toList());
            List<Map<String, Object>> replicas = new ArrayList<>();
            for (CheckReport.Replica r : report.replicas()) {
                Map<String, Object> one = new LinkedHashMap<>();
                one.put("site", r.site());
                one.put("url", r.url().toString());
                one.put("newestPublish", r.newestPublish().map(Instant::toString).orElse(null));
                one.put("lagSeconds", r.lag().map(Duration::toSeconds).orElse(null));
                one.put("problem", r.problem().orElse(null));
                replicas.add(one);
            }
            doc.put("replicas", replicas);
            doc.put("metrics", metrics.map(Path::toString).orElse(null));
            doc.put("millis", report.duration().toMillis());
            out.json(doc);
            return;
        }
        if (report.unreachable().isPresent()) {
            out.error(report.unreachable().get());
            return;
        }
        report.failures().forEach(f -> out.result(f.kind().label() + ": " + f.path() + " " + f.detail()));
        out.result((report.ok() ? "OK: " : report.failures().size() + " problem(s): ") + "target " + target.name() + " ("
                + target.describe() + "), " + report.packagesChecked() + " latest package(s) and " + report.metadataFiles()
                + " metadata file(s) checked in " + report.duration().toMillis() + " ms"
                + report.newestPublish().map(n -> "; last published " + n + " (" + Duration.between(n, now).toSeconds() + " s ago)").orElse(""));
        for (CheckReport.Replica r : report.replicas()) {
            out.result("replica " + r.site() + ": " + r.lag().map(l -> l.toSeconds() + " s behind").orElse("lag unknown, " + r.problem().orElse("")));
        }
    }
}
