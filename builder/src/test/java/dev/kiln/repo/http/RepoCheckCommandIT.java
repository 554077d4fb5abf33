package dev.kiln.repo.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Targets;
import dev.kiln.repo.repodata.ServedRepomd;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.SyntheticRpms;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./kiln repo check} through the CLI jar against a real nginx WebDAV target that Kiln
 * published to, broken for real one way at a time (a flipped byte in a served package, a replaced
 * repomd.xml.asc, a deleted metadata document, a target that is down), with a directory target as
 * replica; its metrics files read by the real {@code promtool}, and the shipped alert rules run by
 * {@code promtool test rules} over those very values.
 */
class RepoCheckCommandIT {

    static final Path RULES = KilnProject.SOURCE_ROOT.resolve("deploy/prometheus/kiln-repo-rules.yml");
    static final String PROMTOOL = "/usr/bin/promtool";

    @TempDir
    static Path dir;
    static NginxDav nginx;
    static final String PASSWORD = "s3cret-canary-pw";
    static KilnProject project;
    static SigningKey key;

    @BeforeAll
    static void publish() throws Exception {
        assumeTrue(NginxDav.available(), "nginx with libnginx-mod-http-dav-ext is not installed (ci/test installs it)");
        assumeTrue(Files.isExecutable(Path.of(PROMTOOL)), "promtool is not installed (ci/test installs the prometheus package)");
        // the company's server asks for credentials on every request, reads too, as many do
        nginx = NginxDav.startWithPassword(dir.resolve("nginx"), "canary", PASSWORD);
        Path projectDir = Files.createDirectories(dir.resolve("project"));
        key = KeyGenerator.generate(projectDir.resolve(".kiln/keys/signing-key.asc"), projectDir.resolve(".kiln/keys/signing-key.asc.pub"),
                "Kiln Test <t@kiln.dev>", "pw".toCharArray());
        project = KilnProject.settingsOnly(projectDir, """
                targets:
                  - name: company
                    kind: webdav
                    url: %s
                  - name: mirror
                    kind: directory
                    path: %s
                  - name: down
                    kind: webdav
                    url: http://127.0.0.1:9/repo/
                """.formatted(nginx.url(), dir.resolve("mirror"))).env("KILN_SIGNING_PASSPHRASE", "pw")
                .env("KILN_TARGET_COMPANY_USERNAME", "canary").env("KILN_TARGET_COMPANY_PASSWORD", PASSWORD);
        RpmSigner signer = new RpmSigner(key);
        Path rpms = Files.createDirectories(dir.resolve("rpms"));
        List<Path> first = List.of(SyntheticRpms.write(rpms, "tool", "1.0", signer), SyntheticRpms.write(rpms, "lib", "2.0", signer));
        // a real installable package made by rpmbuild, and one whose dependency nothing provides
        Path vendor = TestRpms.binary(rpms, "vendor-tool", "4.2", "w19.zstdio");
        signer.sign(vendor);
        Path broken = TestRpms.binaries(rpms, """
                Name: needs-missing
                Version: 1.0
                Release: 1
                Summary: A package whose dependency no repository offers
                License: MIT
                BuildArch: noarch
                Requires: kiln-capability-nobody-provides
                %description
                Needs what nobody provides.
                %files
                """).getFirst();
        signer.sign(broken);
        try (PublishTarget mirror = open("mirror"); PublishTarget company = open("company")) {
            mirror.publish(first, Map.of(), key);
            company.publish(first, Map.of(), key);
            // the second publish lands on the next second at least, so the replica is measurably behind
            Thread.sleep(1100);
            company.publish(List.of(SyntheticRpms.write(rpms, "tool", "1.1", signer), vendor, broken), Map.of(), key);
        }
    }

    @AfterAll
    static void stop() {
        if (nginx != null) {
            nginx.close();
        }
    }

    private static PublishTarget open(String name) {
        TargetConfig config = switch (name) {
            case "mirror" -> new TargetConfig(name, TargetConfig.Kind.DIRECTORY, Optional.of(dir.resolve("mirror")), Optional.empty(), "",
                    TargetConfig.DEFAULT_GRACE, TargetConfig.DEFAULT_LOCK_TIMEOUT, TargetConfig.DEFAULT_INDEX_TIMEOUT);
            default -> new TargetConfig(name, TargetConfig.Kind.WEBDAV, Optional.empty(), Optional.of(nginx.url()), "",
                    TargetConfig.DEFAULT_GRACE, TargetConfig.DEFAULT_LOCK_TIMEOUT, TargetConfig.DEFAULT_INDEX_TIMEOUT);
        };
        return Targets.open(config, Map.of("KILN_TARGET_COMPANY_USERNAME", "canary", "KILN_TARGET_COMPANY_PASSWORD", PASSWORD),
                dir.resolve("publish-cache"));
    }

    @Test
    void aGoodTargetPassesWithThePublicKeyAloneCheckingLatestPackagesOnlyWithTheReplicaLagAndItsMetricsKeepTheAlertsQuiet() throws Exception {
        Path metrics = dir.resolve("good.prom");
        // with the public key alone: the secret key the configuration names is not there for this run
        KilnProject.Result good = project.run("repo", "check", "--target", "company", "--replica", "mirror", "--metrics",
                metrics.toString(), "--json", "--public-key", project.root().resolve(".kiln/keys/signing-key.asc.pub").toString(),
                "--signing.key", dir.resolve("no-secret-here.asc").toString());
        assertThat(good.exitCode()).as(good.describe()).isZero();
        JsonNode doc = new ObjectMapper().readTree(good.stdout());
        assertThat(doc.get("ok").asBoolean()).isTrue();
        assertThat(doc.get("failures")).isEmpty();
        // tool 1.0 and 1.1 are both published; only the newest of each name is what a user installs
        assertThat(doc.get("packagesChecked").asInt()).isEqualTo(4);
        assertThat(doc.get("metadataFiles").asInt()).isEqualTo(4);
        JsonNode replica = doc.get("replicas").get(0);
        assertThat(replica.get("site").asText()).isEqualTo("mirror");
        assertThat(replica.get("lagSeconds").asLong()).as(good.stdout()).isGreaterThanOrEqualTo(1);

        String text = Files.readString(metrics);
        assertThat(text).contains("kiln_repo_check_success{target=\"company\"} 1\n")
                .contains("kiln_repo_check_packages_checked{target=\"company\"} 4\n")
                .contains("kiln_repo_replica_lag_seconds{target=\"company\",site=\"mirror\"} " + replica.get("lagSeconds").asLong() + "\n");
        for (String kind : List.of("signature", "checksum", "metadata", "download", "install")) {
            assertThat(text).contains("kiln_repo_check_failures{target=\"company\",kind=\"" + kind + "\"} 0\n");
        }
        ServedRepomd repomd = ServedRepomd.read(Files.readAllBytes(nginx.repository().resolve("repodata/repomd.xml")));
        assertThat(text).contains("kiln_repo_newest_publish_timestamp_seconds{target=\"company\"} "
                + repomd.newestPublish().orElseThrow().getEpochSecond() + "\n");
        assertPromtoolAccepts(metrics);

        TestRpms.Run rules = TestRpms.run(PROMTOOL, "check", "rules", RULES.toString());
        assertThat(rules.exitCode()).as(rules.output()).isZero();
        TestRpms.Run quiet = rulesTest("good", metrics, Map.of("20m", List.of(), "3h", List.of("KilnRepoCheckStale")));
        assertThat(quiet.exitCode()).as(quiet.output()).isZero();
    }

    @Test
    void aFlippedByteInAServedPackageIsAChecksumFailureAndItsMetricsFireTheFailureAlert() throws Exception {
        Path rpm = nginx.repository().resolve("Packages/tool-1.1-1.noarch.rpm");
        byte[] original = Files.readAllBytes(rpm);
        byte[] flipped = original.clone();
        flipped[flipped.length - 10] ^= 0x01;
        Path metrics = dir.resolve("failed.prom");
        try {
            Files.write(rpm, flipped);
            JsonNode doc = failing(List.of("--metrics", metrics.toString()));
            assertThat(kinds(doc)).containsExactly("checksum:Packages/tool-1.1-1.noarch.rpm");
        } finally {
            Files.write(rpm, original);
        }
        String text = Files.readString(metrics);
        assertThat(text).contains("kiln_repo_check_success{target=\"company\"} 0\n")
                .contains("kiln_repo_check_failures{target=\"company\",kind=\"checksum\"} 1\n")
                .contains("kiln_repo_check_failures{target=\"company\",kind=\"signature\"} 0\n");
        assertPromtoolAccepts(metrics);
        TestRpms.Run firing = rulesTest("failed", metrics, Map.of("20m", List.of("KilnRepoCheckFailing")));
        assertThat(firing.exitCode()).as(firing.output()).isZero();
    }

    @Test
    void aReplacedRepomdSignatureIsASignatureFailure() throws Exception {
        Path asc = nginx.repository().resolve("repodata/repomd.xml.asc");
        byte[] original = Files.readAllBytes(asc);
        SigningKey other = KeyGenerator.generate(dir.resolve("other.asc"), dir.resolve("other.asc.pub"), "Other <o@example.com>", "pw".toCharArray());
        try {
            Files.write(asc, other.detachedSignature(Files.readAllBytes(nginx.repository().resolve("repodata/repomd.xml"))));
            assertThat(kinds(failing(List.of()))).containsExactly("signature:repodata/repomd.xml.asc");
        } finally {
            Files.write(asc, original);
        }
    }

    @Test
    void aDeletedDocumentRepomdNamesIsAMetadataFailure() throws Exception {
        ServedRepomd repomd = ServedRepomd.read(Files.readAllBytes(nginx.repository().resolve("repodata/repomd.xml")));
        String href = repomd.document("filelists").orElseThrow().href();
        Path document = nginx.repository().resolve(href);
        Path aside = dir.resolve("filelists-aside");
        try {
            Files.move(document, aside);
            assertThat(kinds(failing(List.of()))).containsExactly("metadata:" + href);
        } finally {
            Files.move(aside, document);
        }
    }

    @Test
    void anUnreachableTargetIsExitThreeAndItsMetricsSayUnreachable() throws Exception {
        Path metrics = dir.resolve("down.prom");
        KilnProject.Result down = project.run("repo", "check", "--target", "down", "--metrics", metrics.toString());
        assertThat(down.exitCode()).as(down.describe()).isEqualTo(3);
        assertThat(down.stderr()).contains("target down (http://127.0.0.1:9/repo/) cannot be reached");
        String text = Files.readString(metrics);
        assertThat(text).contains("kiln_repo_check_success{target=\"down\"} 0\n").contains("kiln_repo_check_reachable{target=\"down\"} 0\n");
        assertPromtoolAccepts(metrics);
    }

    @Test
    void installPutsEveryLatestPackageIntoAnEmptyRootWithDnfThroughARelayThatKeepsTheCredentialsAndNamesTheOneThatCannotBeInstalled()
            throws Exception {
        KilnProject.Result run = project.run("repo", "check", "--target", "company", "--install", "--json");
        assertThat(run.exitCode()).as(run.describe()).isEqualTo(1);
        JsonNode doc = new ObjectMapper().readTree(run.stdout());
        // dnf read the password-protected server (every other package installed) without being given the password
        assertThat(kinds(doc)).containsExactly("install:needs-missing-1.0-1.noarch");
        assertThat(doc.get("failures").get(0).get("detail").asText()).contains("kiln-capability-nobody-provides");
        assertThat(run.stdout() + run.stderr()).doesNotContain(PASSWORD);
    }

    /** Runs a check of the company target expected to fail with exit 1, and returns its JSON document. */
    private static JsonNode failing(List<String> extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("repo", "check", "--target", "company", "--json"));
        args.addAll(extra);
        KilnProject.Result result = project.run(args, Map.of());
        assertThat(result.exitCode()).as(result.describe()).isEqualTo(1);
        JsonNode doc = new ObjectMapper().readTree(result.stdout());
        assertThat(doc.get("ok").asBoolean()).isFalse();
        return doc;
    }

    private static List<String> kinds(JsonNode doc) {
        List<String> kinds = new ArrayList<>();
        doc.get("failures").forEach(f -> kinds.add(f.get("kind").asText() + ":" + f.get("path").asText()));
        return kinds;
    }

    private static void assertPromtoolAccepts(Path metrics) throws IOException {
        TestRpms.Run check = TestRpms.run("sh", "-c", PROMTOOL + " check metrics < '" + metrics + "'");
        assertThat(check.exitCode()).as(check.output()).isZero();
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-z_]+)\\{([^}]*)\\} (\\S+)$");

    /**
     * {@code promtool test rules} on the shipped rules, with the samples of {@code metrics} as input
     * series scraped every minute for four hours through a node exporter (its instance and job labels
     * added). The file is not rewritten meanwhile, as after a run that was the last one: timestamps
     * keep their distance from the run's start, which is time 0 of the test. {@code firing} names, per
     * evaluation time, the alerts expected to fire; every other alert of the file must stay quiet then.
     */
    private static TestRpms.Run rulesTest(String name, Path metrics, Map<String, List<String>> firing) throws IOException {
        String text = Files.readString(metrics, StandardCharsets.UTF_8);
        long started = Long.parseLong(sample(text, "kiln_repo_check_last_run_timestamp_seconds"));
        StringBuilder yaml = new StringBuilder();
        yaml.append("rule_files:\n  - ").append(RULES).append("\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n");
        for (String line : text.lines().toList()) {
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String value = m.group(3);
            if (m.group(1).endsWith("_timestamp_seconds")) {
                value = Long.toString(Long.parseLong(value) - started);
            }
            yaml.append("      - series: '").append(m.group(1)).append('{').append(m.group(2))
                    .append(",instance=\"canary:9100\",job=\"node\"}'\n        values: '").append(value).append("x240'\n");
        }
        yaml.append("    alert_rule_test:\n");
        List<String> alerts = alertNames();
        for (Map.Entry<String, List<String>> at : firing.entrySet()) {
            for (String alert : alerts) {
                yaml.append("      - eval_time: ").append(at.getKey()).append("\n        alertname: ").append(alert).append('\n');
                if (at.getValue().contains(alert)) {
                    yaml.append("        exp_alerts:\n          - exp_labels:\n").append(expectedLabels(alert));
                    yaml.append("            exp_annotations:\n").append(expectedAnnotations(alert));
                } else {
                    yaml.append("        exp_alerts: []\n");
                }
            }
        }
        Path test = dir.resolve(name + ".rules-test.yml");
        Files.writeString(test, yaml);
        return TestRpms.run(PROMTOOL, "test", "rules", test.toString());
    }

    private static String sample(String text, String metric) {
        Matcher m = Pattern.compile("(?m)^" + metric + "\\{[^}]*\\} (\\S+)$").matcher(text);
        assertThat(m.find()).as(metric + " in " + text).isTrue();
        return m.group(1);
    }

    private static List<String> alertNames() throws IOException {
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s*- alert: (\\S+)$").matcher(Files.readString(RULES));
        while (m.find()) {
            names.add(m.group(1));
        }
        assertThat(names).contains("KilnRepoCheckFailing", "KilnRepoCheckStale", "KilnRepoReplicaLagging");
        return names;
    }

    private static String expectedLabels(String alert) {
        String severity = alert.equals("KilnRepoCheckFailing") ? "critical" : "warning";
        return "              severity: " + severity + "\n              target: company\n              instance: canary:9100\n"
                + "              job: node\n";
    }

    private static String expectedAnnotations(String alert) {
        return switch (alert) {
            case "KilnRepoCheckFailing" -> "              summary: 'Kiln repository company: its check finds problems a user would meet'\n"
                    + "              description: 'The last check of target company on canary:9100 failed; run ./kiln repo check --target company to see each problem.'\n";
            case "KilnRepoCheckStale" -> "              summary: 'Kiln repository company: no check has run for over an hour'\n"
                    + "              description: 'The last check of target company on canary:9100 ran over an hour ago; its timer or cron job has stopped.'\n";
            default -> throw new IllegalArgumentException("no expected annotations for " + alert);
        };
    }
}
