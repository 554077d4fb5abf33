package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnProject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** What {@link ServiceMetrics} exports, read back from its scrape; and the shipped dashboard asks only for that. */
class ServiceMetricsTest {

    static final Path DASHBOARD = KilnProject.SOURCE_ROOT.resolve("deploy/grafana/kiln-service.json");

    /** One call of each method, so every metric the class can export is in the scrape. */
    static ServiceMetrics everyMethodOnce() {
        ServiceMetrics metrics = new ServiceMetrics();
        metrics.gauges(() -> 3, () -> 1);
        metrics.buildQueued();
        metrics.buildStarted(Duration.ofMillis(700));
        metrics.buildFinished("failed", Duration.ofSeconds(42));
        metrics.publishFailed("company");
        metrics.canaryResult("company", true);
        metrics.canaryResult("company", false);
        return metrics;
    }

    @Test
    void exportsEachCallUnderItsNameWithBoundedLabels() {
        String text = everyMethodOnce().scrape();
        assertThat(value(text, "kiln_builds_queued_total")).isEqualTo(1);
        assertThat(value(text, "kiln_build_queue_wait_seconds_count")).isEqualTo(1);
        assertThat(value(text, "kiln_build_queue_wait_seconds_sum")).isEqualTo(0.7);
        assertThat(value(text, "kiln_build_queue_wait_seconds_bucket{le=\"0.5\"}")).isZero();
        assertThat(value(text, "kiln_build_queue_wait_seconds_bucket{le=\"1.0\"}")).isEqualTo(1);
        assertThat(value(text, "kiln_builds_total{outcome=\"failed\"}")).isEqualTo(1);
        assertThat(value(text, "kiln_build_duration_seconds_sum")).isEqualTo(42);
        assertThat(value(text, "kiln_build_duration_seconds_bucket{le=\"30.0\"}")).isZero();
        assertThat(value(text, "kiln_build_duration_seconds_bucket{le=\"60.0\"}")).isEqualTo(1);
        assertThat(value(text, "kiln_build_duration_seconds_bucket{le=\"+Inf\"}")).isEqualTo(1);
        assertThat(value(text, "kiln_publish_failures_total{target=\"company\"}")).isEqualTo(1);
        assertThat(value(text, "kiln_canary_checks_total{result=\"ok\",target=\"company\"}")).isEqualTo(1);
        assertThat(value(text, "kiln_canary_checks_total{result=\"failed\",target=\"company\"}")).isEqualTo(1);
        assertThat(value(text, "kiln_queue_depth")).isEqualTo(3);
        assertThat(value(text, "kiln_builds_running")).isEqualTo(1);
        // builds reach hours, waits start at a tenth of a second
        assertThat(text).contains("kiln_build_duration_seconds_bucket{le=\"3600.0\"}", "kiln_build_queue_wait_seconds_bucket{le=\"0.1\"}");
        assertThat(labelNames(text)).containsOnly("outcome", "target", "result", "le");
    }

    @Test
    void everyOutcomeCounterIsThereAtZeroBeforeAnyBuildAndTheGaugesOnlyOnceAttached() {
        ServiceMetrics metrics = new ServiceMetrics();
        String text = metrics.scrape();
        for (String outcome : List.of("succeeded", "failed", "cancelled", "interrupted")) {
            assertThat(value(text, "kiln_builds_total{outcome=\"" + outcome + "\"}")).as(outcome).isZero();
        }
        assertThat(text).doesNotContain("kiln_queue_depth", "kiln_builds_running");

        AtomicInteger waiting = new AtomicInteger(2);
        metrics.gauges(waiting::get, () -> 0);
        assertThat(value(metrics.scrape(), "kiln_queue_depth")).isEqualTo(2);
        waiting.set(5);
        assertThat(value(metrics.scrape(), "kiln_queue_depth")).as("read at each scrape").isEqualTo(5);
        metrics.gauges(() -> 7, () -> 2);
        assertThat(value(metrics.scrape(), "kiln_queue_depth")).as("replaced").isEqualTo(7);
        assertThat(value(metrics.scrape(), "kiln_builds_running")).isEqualTo(2);
        assertThat(metrics.contentType()).startsWith("text/plain; version=0.0.4");
    }

    @Test
    void refusesAnOutcomeThatIsNotOneOfTheFour() {
        ServiceMetrics metrics = new ServiceMetrics();
        assertThatThrownBy(() -> metrics.buildFinished("success", Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("success");
        assertThat(metrics.scrape()).doesNotContain("success\"");
    }

    @Test
    void everyDashboardQueryNamesOnlyMetricsTheServiceExports() throws Exception {
        Set<String> exported = sampleNames(everyMethodOnce().scrape());
        JsonNode dashboard = JsonMapper.builder().build().readTree(Files.readString(DASHBOARD));
        assertThat(dashboard.get("schemaVersion").asInt()).isBetween(36, 41);
        assertThat(dashboard.get("__inputs").get(0).get("name").asString()).isEqualTo("DS_PROMETHEUS");

        List<String> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            assertThat(panel.get("datasource").get("uid").asString()).as(panel.get("title").asString()).isEqualTo("${DS_PROMETHEUS}");
            assertThat(panel.get("targets")).as(panel.get("title").asString()).isNotEmpty();
            for (JsonNode target : panel.get("targets")) {
                queries.add(target.get("expr").asString());
            }
        }
        for (JsonNode variable : dashboard.get("templating").get("list")) {
            queries.add(variable.get("definition").asString().replaceAll("^label_values\\((\\w+),.*", "$1"));
        }
        assertThat(dashboard.get("panels")).hasSizeGreaterThanOrEqualTo(7);
        Set<String> used = new TreeSet<>();
        for (String query : queries) {
            Set<String> names = metricNames(query);
            assertThat(names).as("metrics in " + query).isNotEmpty();
            assertThat(exported).as("exported, asked for by " + query).containsAll(names);
            used.addAll(names);
        }
        assertThat(used).contains("kiln_builds_total", "kiln_build_duration_seconds_bucket", "kiln_build_queue_wait_seconds_bucket",
                "kiln_queue_depth", "kiln_builds_running", "kiln_publish_failures_total", "kiln_canary_checks_total");
    }

    @Test
    void readsTheMetricNamesOfAQuery() {
        assertThat(metricNames("histogram_quantile(0.95, sum by (le) (rate(kiln_a_bucket{instance=~\"$instance\"}[$__rate_interval])))"))
                .containsExactly("kiln_a_bucket");
        assertThat(metricNames("sum by (target, result) (increase(kiln_b_total[1h])) / on() group_left kiln_c > 0.5"))
                .containsExactly("kiln_b_total", "kiln_c");
    }

    private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");

    /** The value of the one sample {@code series} (name with its labels as exposed, or the bare name). */
    private static double value(String text, String series) {
        Matcher m = SAMPLE.matcher(text);
        List<Double> found = new ArrayList<>();
        while (m.find()) {
            String name = m.group(1) + (m.group(2) == null ? "" : m.group(2));
            if (name.equals(series)) {
                found.add(Double.parseDouble(m.group(3)));
            }
        }
        assertThat(found).as(series + " in\n" + text).hasSize(1);
        return found.getFirst();
    }

    static Set<String> sampleNames(String text) {
        Set<String> names = new TreeSet<>();
        Matcher m = SAMPLE.matcher(text);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static Set<String> labelNames(String text) {
        Set<String> labels = new TreeSet<>();
        Matcher m = SAMPLE.matcher(text);
        while (m.find()) {
            if (m.group(2) != null) {
                Matcher label = Pattern.compile("(\\w+)=\"").matcher(m.group(2));
                while (label.find()) {
                    labels.add(label.group(1));
                }
            }
        }
        return labels;
    }

    private static final Set<String> PROMQL_WORDS = Set.of("on", "ignoring", "group_left", "group_right", "bool",
            "and", "or", "unless", "offset");

    /**
     * The metric names a PromQL query reads: what is left of its identifiers once label matchers,
     * strings, ranges, groupings and function calls are taken out.
     */
    static Set<String> metricNames(String query) {
        String bare = query.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                // sum by (le) (x) becomes sum (x): an aggregation reads as the call it is
                .replaceAll("\\b(by|without)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\b(on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " $1 ");
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*(\\()?").matcher(bare);
        while (m.find()) {
            if (m.group(2) == null && !PROMQL_WORDS.contains(m.group(1))) {
                names.add(m.group(1));
            }
        }
        return names;
    }
}
