package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.PostgresServer;
import dev.kiln.RunningService;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's database on a real PostgreSQL 15 server (one for the class, a fresh database per
 * test): every token and queue case the embedded database passes, two services on one database at
 * once, and {@code ./kiln token} and {@code ./kiln serve} through the launcher with
 * {@code service.database} set (the service asks the Docker engine for containers it left: run it
 * under the engine's lock).
 */
class ServicePostgresIT {

    private static PostgresServer server;
    private static final AtomicInteger DATABASES = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        server = PostgresServer.start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String newDatabase() {
        return server.createDatabase("kiln_test_" + DATABASES.incrementAndGet());
    }

    private static ServiceDatabase open(String url) {
        return ServiceDatabase.open(url, Optional.of(server.password()));
    }

    @Nested
    class Tokens extends TokenStoreCases {
        private final String url = newDatabase();

        @Override
        protected ServiceDatabase open() {
            return ServicePostgresIT.open(url);
        }

        @Override
        protected String storedBytes() throws Exception {
            server.checkpoint();
            return filesUnder(server.data());
        }
    }

    @Nested
    class Queue extends BuildQueueCases {
        private final String url = newDatabase();

        @Override
        protected ServiceDatabase open() {
            return ServicePostgresIT.open(url);
        }
    }

    @Test
    void twoServicesOpeningOneNewDatabaseAtOnceBothWorkAndEachBuildIsStartedByOnlyOne() throws Exception {
        String url = newDatabase();
        int openers = 4;
        CyclicBarrier together = new CyclicBarrier(openers);
        List<ServiceDatabase> dbs = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(openers)) {
            List<Future<ServiceDatabase>> opening = new ArrayList<>();
            for (int i = 0; i < openers; i++) {
                opening.add(pool.submit(() -> {
                    together.await();
                    return open(url); // all of them find no tables and set up the schema at the same moment
                }));
            }
            for (Future<ServiceDatabase> f : opening) {
                dbs.add(f.get());
            }
        }
        try {
            try (var c = dbs.getFirst().connect(); var q = c.prepareStatement("SELECT version FROM kiln_schema ORDER BY version");
                    var rs = q.executeQuery()) {
                List<Integer> versions = new ArrayList<>();
                while (rs.next()) {
                    versions.add(rs.getInt(1));
                }
                assertThat(versions).as("the schema was set up once").containsExactly(1, 2, 3);
            }

            BuildQueue one = new BuildQueue(dbs.get(0), Clock.systemUTC());
            BuildQueue two = new BuildQueue(dbs.get(1), Clock.systemUTC());
            TokenStore tokensOne = new TokenStore(dbs.get(0), Clock.systemUTC());
            TokenStore tokensTwo = new TokenStore(dbs.get(1), Clock.systemUTC());
            TokenStore.Created made = tokensOne.create("ci", Scope.BUILD, Optional.empty(), "one");
            assertThat(tokensTwo.authenticate(made.secret())).as("a token made by one service signs in at the other").isPresent();

            int builds = 30;
            List<ServiceBuild> submitted = new ArrayList<>();
            for (int i = 0; i < builds; i++) {
                submitted.add((i % 2 == 0 ? one : two).submit(new BuildQueue.Submission(List.of("pkg" + i), Optional.empty(), "main",
                        "0".repeat(40), ServiceBuild.Mode.SCRATCH, false, Optional.empty()), "robot"));
            }
            assertThat(one.queued()).hasSize(builds).isEqualTo(two.queued());
            int wins = 0;
            try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
                for (ServiceBuild b : submitted) {
                    CyclicBarrier race = new CyclicBarrier(2);
                    Callable<Boolean> startOne = () -> {
                        race.await();
                        return one.start(b.id());
                    };
                    Callable<Boolean> startTwo = () -> {
                        race.await();
                        return two.start(b.id());
                    };
                    Future<Boolean> a = pool.submit(startOne);
                    Future<Boolean> z = pool.submit(startTwo);
                    boolean first = a.get();
                    boolean second = z.get();
                    assertThat(first ^ second).as("build #" + b.id() + " started by exactly one of two services").isTrue();
                    wins += first ? 1 : 0;
                    assertThat(two.get(b.id()).orElseThrow().attempt()).as("started once").isEqualTo(1);
                }
            }
            assertThat(one.inState(ServiceBuild.State.RUNNING)).hasSize(builds);
            assertThat(one.counts()).containsEntry(ServiceBuild.State.RUNNING, builds).containsEntry(ServiceBuild.State.QUEUED, 0);
            System.out.printf("two services racing for %d builds: the first won %d, the second %d%n", builds, wins, builds - wins);
        } finally {
            dbs.forEach(ServiceDatabase::close);
        }
    }

    @TempDir
    java.nio.file.Path dir;

    @Test
    void kilnTokenAndServeUseServiceDatabaseWithThePasswordFromTheEnvironmentOnlyAndNeverPrintIt() throws Exception {
        String url = newDatabase();
        KilnProject project = KilnProject.settingsOnly(Files.createDirectories(dir.resolve("project")), "service:\n  database: " + url + "\n");
        KilnProject.Result made = project.run(List.of("token", "create", "ci", "--scope", "publish", "--json"),
                Map.of("KILN_SERVICE_DATABASE_PASSWORD", server.password()));
        assertThat(made.exitCode()).as(made.describe()).isZero();
        String secret = new ObjectMapper().readTree(made.stdout()).get("secret").asText();
        assertThat(Files.exists(project.root().resolve(".kiln/service/kiln.mv.db"))).as("nothing in the embedded database").isFalse();
        try (ServiceDatabase db = open(url)) {
            assertThat(new TokenStore(db, Clock.systemUTC()).authenticate(secret)).as("the token is in PostgreSQL")
                    .get().extracting(ApiToken::name).isEqualTo("ci");
        }

        // another project, the URL from the environment instead of kiln.yaml
        KilnProject elsewhere = KilnProject.settingsOnly(Files.createDirectories(dir.resolve("elsewhere")), "");
        KilnProject.Result listed = elsewhere.run(List.of("token", "list", "--json"),
                Map.of("KILN_SERVICE_DATABASE", url, "KILN_SERVICE_DATABASE_PASSWORD", server.password()));
        assertThat(listed.exitCode()).as(listed.describe()).isZero();
        JsonNode tokens = new ObjectMapper().readTree(listed.stdout()).get("tokens");
        assertThat(tokens).hasSize(1);
        assertThat(tokens.get(0).get("name").asText()).isEqualTo("ci");
        assertThat(tokens.get(0).get("valid").asBoolean()).isTrue();

        // the service signs clients in with that token and keeps its queue there: the token store and the queue on PostgreSQL
        try (Git git = Git.init().setDirectory(elsewhere.root().toFile()).setInitialBranch("main").call()) {
            // the service builds commits of the project's Git repository: it needs one, no commit yet
        }
        RunningService serve = RunningService.start(elsewhere, Map.of("KILN_SERVICE_DATABASE", url,
                "KILN_SERVICE_DATABASE_PASSWORD", server.password()), "--setup");
        try (serve) {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> whoami = http.send(HttpRequest.newBuilder(serve.base().resolve("api/v1/whoami"))
                    .header("Authorization", "Bearer " + secret).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(whoami.statusCode()).as(whoami.body()).isEqualTo(200);
            assertThat(new ObjectMapper().readTree(whoami.body()).get("scope").asText()).isEqualTo("publish");
            HttpResponse<String> builds = http.send(HttpRequest.newBuilder(serve.base().resolve("api/v1/builds"))
                    .header("Authorization", "Bearer " + secret).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(builds.statusCode()).as(builds.body()).isEqualTo(200);
            assertThat(new ObjectMapper().readTree(builds.body()).get("builds")).isEmpty();
            assertThat(Files.exists(elsewhere.root().resolve(".kiln/service/kiln.mv.db"))).as("nothing in the embedded database").isFalse();
        }
        assertThat(serve.stderr()).doesNotContain(server.password()).doesNotContain(secret);

        KilnProject.Result wrong = project.run(List.of("token", "list"), Map.of("KILN_SERVICE_DATABASE_PASSWORD", "not-" + server.password()));
        assertThat(wrong.exitCode()).as(wrong.describe()).isEqualTo(3);
        assertThat(kilnLines(wrong)).as(wrong.describe()).singleElement().satisfies(l -> assertThat(l)
                .contains("cannot open the service's database", "password authentication failed", "KILN_SERVICE_DATABASE_PASSWORD"));
        for (KilnProject.Result r : List.of(made, listed, wrong)) {
            assertThat(r.stdout() + r.stderr()).as(r.describe()).doesNotContain(server.password());
        }
    }

    private static List<String> kilnLines(KilnProject.Result r) {
        return r.stderr().lines().filter(l -> l.startsWith("kiln: ")).toList();
    }
}
