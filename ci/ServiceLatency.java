import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * API latency of Kiln's service under concurrent clients (run by ci/benchmark-service):
 * {@code java ci/ServiceLatency.java URL TOKEN [clients] [requests]}. Each client lists the builds
 * {@code requests} times, then submits a scratch build of hello and cancels it at once,
 * {@code requests / 5} times (so the queue does not grow). Prints p50, p99 and max of each.
 */
public class ServiceLatency {

    public static void main(String[] args) throws Exception {
        URI base = URI.create(args[0].endsWith("/") ? args[0] : args[0] + "/");
        String token = args[1];
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int requests = args.length > 3 ? Integer.parseInt(args[3]) : 50;
        HttpClient http = HttpClient.newHttpClient();
        List<Long> list = Collections.synchronizedList(new ArrayList<>());
        List<Long> submit = Collections.synchronizedList(new ArrayList<>());
        Pattern id = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < requests; i++) {
                        long t0 = System.nanoTime();
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("api/v1/builds?limit=50"))
                                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
                        list.add(System.nanoTime() - t0);
                        check(r, 200);
                    }
                    for (int i = 0; i < Math.max(1, requests / 5); i++) {
                        long t0 = System.nanoTime();
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("api/v1/builds"))
                                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString("{\"packages\":[\"hello\"],\"ref\":\"HEAD\",\"mode\":\"scratch\"}"))
                                .build(), HttpResponse.BodyHandlers.ofString());
                        submit.add(System.nanoTime() - t0);
                        check(r, 201);
                        Matcher m = id.matcher(r.body());
                        m.find();
                        http.send(HttpRequest.newBuilder(base.resolve("api/v1/builds/" + m.group(1) + "/cancel"))
                                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build(),
                                HttpResponse.BodyHandlers.ofString());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        print("GET /api/v1/builds?limit=50", list, clients);
        print("POST /api/v1/builds (submit)", submit, clients);
    }

    private static void check(HttpResponse<String> r, int status) {
        if (r.statusCode() != status) {
            throw new IllegalStateException(r.uri() + ": HTTP " + r.statusCode() + " " + r.body());
        }
    }

    private static void print(String what, List<Long> nanos, int clients) {
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        System.out.printf("  %-30s %4d requests, %d clients: p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms%n", what, sorted.size(), clients,
                at(sorted, 0.50), at(sorted, 0.99), sorted.getLast() / 1e6);
    }

    private static double at(List<Long> sorted, double q) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1)) / 1e6;
    }
}
