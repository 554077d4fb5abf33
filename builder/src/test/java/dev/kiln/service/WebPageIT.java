package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnProject;
import dev.kiln.RunningService;
import java.io.File;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptException;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The service's web page in a real Chromium, driven by Selenium through the system's chromedriver,
 * against {@code ./kiln serve} through the launcher and the real engine: sign in with a token,
 * submit a scratch build and watch its log arrive live, see it succeed with its stages and
 * artifacts, be refused a publish with a build token, publish with a publish token and find the
 * package on the packages page, cancel a long build with the button. Beside the browser, plain
 * requests prove the refusals: a POST without the CSRF token, or from another origin, is 403; a
 * revoked token's session ends; the session cookie's flags. Each page's screenshot is kept under
 * {@code target/screenshots/}.
 */
class WebPageIT {

    private static final Path SCREENSHOTS = KilnProject.SOURCE_ROOT.resolve("builder/target/screenshots");
    private static final Duration BUILD_TIME = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void signsInBuildsWithALiveLogPublishesAndCancelsInARealBrowser() throws Exception {
        KilnProject service = KilnProject.create(Files.createDirectories(dir.resolve("service")));
        service.write("specs/slow/slow.spec", ServiceBuildIT.SLOW_SPEC);
        service.commit("a slow package");
        String eng = ServiceBuildIT.secret(service.run("token", "create", "eng", "--scope", "build", "--json"));
        String rel = ServiceBuildIT.secret(service.run("token", "create", "rel", "--scope", "publish", "--json"));
        String gone = ServiceBuildIT.secret(service.run("token", "create", "gone", "--scope", "build", "--json"));
        Files.createDirectories(SCREENSHOTS);

        try (RunningService serve = RunningService.start(service, Map.of(), "--setup"); Browser browser = Browser.start(dir)) {
            URI base = serve.base();
            WebDriver web = browser.driver();

            web.get(base.resolve("/").toString());
            assertThat(web.getCurrentUrl()).as("a browser without a session is sent to sign in").endsWith("/login");
            signIn(web, base, "not-a-token");
            assertThat(web.findElement(By.id("error")).getText()).contains("unknown, expired or revoked");
            signIn(web, base, eng);
            assertThat(web.findElement(By.id("who")).getText()).isEqualTo("eng (build)");

            // a scratch build: its log arrives on the open page while it runs
            web.get(base.resolve("/submit").toString());
            web.findElement(By.id("packages")).sendKeys("hello");
            web.findElement(By.id("scratch")).click();
            screenshot(web, "submit");
            web.findElement(By.id("submit")).click();
            until(web, Duration.ofSeconds(30), d -> d.getCurrentUrl().matches(".*/builds/\\d+"));
            long hello = Long.parseLong(web.getCurrentUrl().replaceAll(".*/builds/", ""));
            JavascriptExecutor js = (JavascriptExecutor) web;
            // a mark on this page, lost when it reloads: the page reloads only at the log's end event
            js.executeScript("window.kilnSameLoad = true;");
            long atLoad = lines(web);
            String stateAtLoad = web.findElement(By.id("state")).getText();
            assertThat(stateAtLoad).isIn("queued", "running");
            until(web, BUILD_TIME, d -> lines(d) > atLoad || !sameLoad(d));
            assertThat(sameLoad(web)).as("log lines arrived over the live stream before the build ended (state at load: "
                    + stateAtLoad + ", " + atLoad + " lines)").isTrue();
            assertThat(state(web)).as("the page shows it running").isEqualTo("running");
            screenshot(web, "build-running");
            until(web, BUILD_TIME, d -> !sameLoad(d) && (state(d).equals("succeeded") || state(d).equals("failed")));
            assertThat(state(web)).as(web.findElement(By.id("log")).getText() + "\n--- service\n" + serve.stderr()).isEqualTo("succeeded");
            String stages = web.findElement(By.id("stages")).getText();
            assertThat(stages).as("each stage with its time, since the start and how long it took")
                    .containsPattern("\\d\\d:\\d\\d:\\d\\d \\d+\\.\\ds \\d+\\.\\ds Start: rpmbuild hello-1\\.0-1")
                    .containsPattern("\\d\\d:\\d\\d:\\d\\d \\d+\\.\\ds \\d+\\.\\ds Finish: hello-1\\.0-1\\.noarch");
            assertThat(web.findElement(By.id("log")).getText()).contains("+ sh -n hello.sh");
            WebElement rpmLink = web.findElements(By.cssSelector("#artifacts a")).stream()
                    .filter(a -> a.getText().endsWith(".noarch.rpm")).findFirst().orElseThrow();
            screenshot(web, "build-succeeded");
            String session = web.manage().getCookieNamed(WebSessions.COOKIE).getValue();
            assertThat(web.manage().getCookieNamed(WebSessions.COOKIE).isHttpOnly()).isTrue();
            assertThat(session).doesNotContain(eng).hasSizeGreaterThanOrEqualTo(43);
            HttpResponse<byte[]> rpm = http.send(HttpRequest.newBuilder(URI.create(rpmLink.getAttribute("href")))
                    .header("Cookie", WebSessions.COOKIE + "=" + session).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(rpm.statusCode()).isEqualTo(200);
            assertThat(rpm.body()).as("an RPM's lead").startsWith((byte) 0xed, (byte) 0xab, (byte) 0xee, (byte) 0xdb);

            web.get(base.resolve("/").toString());
            String row = web.findElement(By.id("build-" + hello)).getText();
            assertThat(row).contains("succeeded").contains("hello").contains("scratch").contains("eng");
            screenshot(web, "builds");

            // a build token cannot publish: the form says so
            web.get(base.resolve("/submit").toString());
            web.findElement(By.id("packages")).sendKeys("hello");
            web.findElement(By.id("publish")).click();
            web.findElement(By.id("submit")).click();
            until(web, Duration.ofSeconds(30), d -> !d.findElements(By.id("error")).isEmpty());
            assertThat(web.findElement(By.id("error")).getText()).contains("token eng of scope build")
                    .contains("a publish build needs a token of scope publish");
            screenshot(web, "submit-refused");

            refusesCrossSiteAndStalePosts(base, session, eng);

            web.findElement(By.id("sign-out")).click();
            until(web, Duration.ofSeconds(30), d -> d.getCurrentUrl().endsWith("/login"));
            web.get(base.resolve("/").toString());
            assertThat(web.getCurrentUrl()).as("signed out").endsWith("/login");
            assertThat(get(base, "/", session).statusCode()).as("the old session cookie is dead").isEqualTo(303);

            // a publish token publishes; the package is then on the packages page
            signIn(web, base, rel);
            web.get(base.resolve("/submit").toString());
            web.findElement(By.id("packages")).sendKeys("hello");
            web.findElement(By.id("publish")).click();
            web.findElement(By.id("submit")).click();
            until(web, Duration.ofSeconds(30), d -> d.getCurrentUrl().matches(".*/builds/\\d+"));
            until(web, BUILD_TIME, d -> state(d).equals("succeeded") || state(d).equals("failed"));
            assertThat(state(web)).as(web.findElement(By.id("log")).getText() + "\n--- service\n" + serve.stderr()).isEqualTo("succeeded");
            web.get(base.resolve("/packages").toString());
            assertThat(web.findElement(By.id("packages")).getText()).contains("hello-1.0-1");
            screenshot(web, "packages");

            // a long build, cancelled with the button while it runs
            web.get(base.resolve("/submit").toString());
            web.findElement(By.id("packages")).sendKeys("slow");
            web.findElement(By.id("submit")).click();
            until(web, Duration.ofSeconds(30), d -> d.getCurrentUrl().matches(".*/builds/\\d+"));
            until(web, BUILD_TIME, d -> d.findElement(By.id("log")).getText().contains("slow build begins"));
            assertThat(state(web)).isEqualTo("running");
            screenshot(web, "build-slow");
            web.findElement(By.id("cancel")).click();
            until(web, Duration.ofSeconds(60), d -> state(d).equals("cancelled"));
            assertThat(web.findElements(By.id("cancel"))).as("no cancel button once ended").isEmpty();
            assertThat(web.findElement(By.id("message")).getText()).contains("cancel");
            screenshot(web, "build-cancelled");

            revokedTokenEndsItsSession(service, base, gone);
        }
    }

    /** A POST needs the session's CSRF token and must not come from another origin; neither refused one queues a build. */
    private void refusesCrossSiteAndStalePosts(URI base, String session, String eng) throws Exception {
        int before = builds(base, eng);
        HttpResponse<String> form = get(base, "/submit", session);
        Matcher csrf = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(form.body());
        assertThat(csrf.find()).as(form.body()).isTrue();
        String fields = "packages=hello&ref=main&mode=scratch";

        HttpResponse<String> noToken = post(base, "/submit", session, fields, Optional.empty());
        assertThat(noToken.statusCode()).as(noToken.body()).isEqualTo(403);
        assertThat(noToken.body()).contains("security token is missing or stale");
        HttpResponse<String> wrongToken = post(base, "/submit", session, fields + "&csrf=" + "x".repeat(43), Optional.empty());
        assertThat(wrongToken.statusCode()).isEqualTo(403);
        HttpResponse<String> foreign = post(base, "/submit", session, fields + "&csrf=" + csrf.group(1),
                Optional.of("http://attacker.example"));
        assertThat(foreign.statusCode()).as(foreign.body()).isEqualTo(403);
        assertThat(foreign.body()).contains("sent from another site");
        HttpResponse<String> cancelForeign = post(base, "/logout", session, "csrf=" + csrf.group(1), Optional.of("null"));
        assertThat(cancelForeign.statusCode()).isEqualTo(403);
        assertThat(builds(base, eng)).as("no refused POST queued a build").isEqualTo(before);

        // the same form from this origin gets past both checks: the refusals above were for what they named
        HttpResponse<String> same = post(base, "/submit", session, "packages=bad%2Fname&ref=main&mode=scratch&csrf="
                + csrf.group(1), Optional.of("http://" + base.getAuthority()));
        assertThat(same.statusCode()).as(same.body()).isEqualTo(400);
        assertThat(same.body()).contains("package &#39;bad/name&#39; is not a package name");

        // what a person typed comes back escaped, in the message and in the form
        HttpResponse<String> markup = post(base, "/submit", session, "packages=hello&mode=scratch&ref=" + URLEncoder.encode(
                "<b id=\"injected\">x</b>", StandardCharsets.UTF_8) + "&csrf=" + csrf.group(1), Optional.empty());
        assertThat(markup.statusCode()).as(markup.body()).isEqualTo(400);
        assertThat(markup.body()).contains("ref &#39;&lt;b id=&quot;injected&quot;&gt;x&lt;/b&gt;&#39; is not ")
                .contains("value=\"&lt;b id=&quot;injected&quot;&gt;x&lt;/b&gt;\"").doesNotContain("<b id=");
        assertThat(builds(base, eng)).as("no refused POST queued a build").isEqualTo(before);
    }

    /** Revoking a token ends the sessions signed in with it at once; cookies behind https are Secure. */
    private void revokedTokenEndsItsSession(KilnProject service, URI base, String gone) throws Exception {
        HttpResponse<String> login = get(base, "/login", null);
        String loginCookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
        String csrf = loginCookie.substring(loginCookie.indexOf('=') + 1);
        HttpResponse<String> signedIn = http.send(HttpRequest.newBuilder(base.resolve("/login"))
                .header("Cookie", loginCookie).header("Content-Type", "application/x-www-form-urlencoded")
                .header("X-Forwarded-Proto", "https").header("Origin", "https://" + base.getAuthority())
                .POST(HttpRequest.BodyPublishers.ofString("csrf=" + csrf + "&token=" + URLEncoder.encode(gone, StandardCharsets.UTF_8)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(signedIn.statusCode()).as(signedIn.body()).isEqualTo(303);
        String cookie = signedIn.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith(WebSessions.COOKIE + "="))
                .findFirst().orElseThrow();
        assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict").contains("Secure").contains("Path=/")
                .containsPattern("Max-Age=4[0-3]\\d{3}"); // 12 hours: the token does not expire sooner
        assertThat(cookie).doesNotContain(gone);
        String session = cookie.substring(WebSessions.COOKIE.length() + 1, cookie.indexOf(';'));
        assertThat(get(base, "/", session).statusCode()).isEqualTo(200);

        KilnProject.Result revoked = service.run("token", "revoke", "gone");
        assertThat(revoked.exitCode()).as(revoked.describe()).isZero();
        HttpResponse<String> after = get(base, "/", session);
        assertThat(after.statusCode()).as("a revoked token's session ends at once").isEqualTo(303);
        assertThat(after.headers().firstValue("Location")).hasValue("/login");
    }

    private static void signIn(WebDriver web, URI base, String token) {
        web.get(base.resolve("/login").toString());
        web.findElement(By.id("token")).sendKeys(token);
        screenshot(web, "login");
        web.findElement(By.id("sign-in")).click();
        until(web, Duration.ofSeconds(30), d -> !d.findElements(By.id("who")).isEmpty() || !d.findElements(By.id("error")).isEmpty());
    }

    /** Waits for a condition of a page that may be reloading meanwhile. */
    private static void until(WebDriver web, Duration limit, java.util.function.Function<WebDriver, Boolean> condition) {
        new WebDriverWait(web, limit, Duration.ofMillis(200)).ignoring(StaleElementReferenceException.class)
                .ignoring(JavascriptException.class).until(condition);
    }

    private static long lines(WebDriver web) {
        return web.findElements(By.cssSelector("#log span.line")).size();
    }

    private static boolean sameLoad(WebDriver web) {
        return Boolean.TRUE.equals(((JavascriptExecutor) web).executeScript("return window.kilnSameLoad === true;"));
    }

    private static String state(WebDriver web) {
        return web.findElement(By.id("state")).getText();
    }

    private static void screenshot(WebDriver web, String page) {
        try {
            Path shot = ((TakesScreenshot) web).getScreenshotAs(OutputType.FILE).toPath();
            Files.move(shot, SCREENSHOTS.resolve(page + ".png"), StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private int builds(URI base, String token) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/api/v1/builds")).header("Authorization", "Bearer " + token)
                .build(), HttpResponse.BodyHandlers.ofString());
        JsonNode doc = json.readTree(r.body());
        return doc.get("builds").size();
    }

    private HttpResponse<String> get(URI base, String path, String session) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(base.resolve(path));
        if (session != null) {
            r.header("Cookie", WebSessions.COOKIE + "=" + session);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(URI base, String path, String session, String fields, Optional<String> origin) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(base.resolve(path)).header("Cookie", WebSessions.COOKIE + "=" + session)
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(fields));
        origin.ifPresent(o -> r.header("Origin", o));
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Headless Chromium through Debian's chromedriver, named explicitly so Selenium Manager never
     * looks for (or downloads) a driver or a browser; a fresh profile in the test's folder.
     */
    private record Browser(ChromeDriver driver) implements AutoCloseable {
        static Browser start(Path dir) throws java.io.IOException {
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File("/usr/bin/chromedriver"))
                    .usingAnyFreePort().build();
            ChromeOptions options = new ChromeOptions();
            options.setBinary("/usr/bin/chromium");
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", "--window-size=1280,1000",
                    "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().implicitlyWait(Duration.ZERO);
            return new Browser(driver);
        }

        @Override
        public void close() {
            driver.quit();
        }
    }
}
