package dev.kiln.container;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import dev.kiln.KilnProject;
import dev.kiln.rpm.TestRpms;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Internal build dependencies from hostile specs: trapdep's %pretrans, %pre, %post, %posttrans,
 * trigger and file triggers would each write a marker, sleep 45 s and try the network. They are
 * installed into the dependents' build images without running any of that, within the build's
 * lockdown and limits, into an image of each build's own that is gone afterwards; and inputs
 * larger than the CLI's heap are streamed, not read into memory.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DependencyLockdownIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String MARKER = "/var/tmp/trapdep-ran";

    @TempDir
    static Path tmp;

    static KilnProject project;
    static DockerEngine engine;

    private Set<String> imagesBefore;
    private Set<String> containersBefore;

    @BeforeAll
    static void project() throws IOException {
        project = KilnProject.create(Files.createDirectories(tmp.resolve("project")));
        // maven needs the network and time; this class is about the others.
        KilnProject.deleteTree(project.root().resolve("specs/maven"));
        KilnProject.deleteTree(project.root().resolve("patches/maven"));
        project.write("specs/trapdep/trapdep.spec", TRAPDEP);
        project.write("specs/trapuser/trapuser.spec", trapUser("trapuser"));
        project.write("specs/trapuser2/trapuser2.spec", trapUser("trapuser2"));
        project.commit("a hostile build dependency and two packages that build on it");
        engine = DockerEngine.connect(project.root().resolve(".kiln"), s -> { });
    }

    @BeforeEach
    void remember() {
        imagesBefore = dependencyImages();
        containersBefore = buildContainers();
    }

    @AfterEach
    void noDependencyImageOrBuildContainerLeft() {
        assertThat(dependencyImages()).as("no " + DependencyImage.REPOSITORY + " image left").isEqualTo(imagesBefore);
        assertThat(buildContainers()).as("no build container left").isEqualTo(containersBefore);
    }

    @Test
    @Order(1)
    void theInstallContainerIsLockedDownAndHoldsOnlyTheCapabilitiesRpmNeeds() {
        ContainerLimits limits = new ContainerLimits(512L << 20, 128, Duration.ofSeconds(20));
        String builder = pinnedImage();
        try (BuildContainer installer = DependencyImage.installer(engine, builder, Map.of("trapdep-1.0-1.noarch.rpm",
                Path.of("trapdep-1.0-1.noarch.rpm")), limits)) {
            InspectContainerResponse c = engine.client().inspectContainerCmd(installer.id()).exec();
            assertThat(c.getHostConfig().getNetworkMode()).isEqualTo("none");
            assertThat(c.getConfig().getNetworkDisabled()).isTrue();
            assertThat(c.getHostConfig().getCapDrop()).containsExactly(Capability.ALL);
            assertThat(c.getHostConfig().getCapAdd()).containsExactlyInAnyOrder(Capability.CHOWN, Capability.FOWNER,
                    Capability.DAC_OVERRIDE);
            assertThat(c.getHostConfig().getSecurityOpts()).containsExactly("no-new-privileges");
            assertThat(c.getHostConfig().getMemory()).isEqualTo(512L << 20);
            assertThat(c.getHostConfig().getMemorySwap()).isEqualTo(512L << 20);
            assertThat(c.getHostConfig().getPidsLimit()).isEqualTo(128L);
            assertThat(c.getConfig().getUser()).isEqualTo("0:0");
            assertThat(c.getConfig().getLabels()).containsAllEntriesOf(BuildContainer.labels());
            assertThat(String.join(" ", c.getConfig().getCmd()))
                    .contains("rpm --install --nodeps --noscripts --notriggers --nocaps --noplugins /tmp/kiln-deps/trapdep-1.0-1.noarch.rpm");
        }
    }

    @Test
    @Order(2)
    void dependencyScriptletsAndTriggersNeverRunAndTheDependentBuildsWithinAShortTimeout() throws Exception {
        long started = System.nanoTime();
        KilnProject.Result r = project.run(List.of("build", "trapdep", "trapuser", "trapuser2", "--jobs", "2", "--json"),
                Map.of("KILN_BUILD_TIMEOUT", "20s"));
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(r.exitCode()).as(r.describe()).isZero();
        // One scriptlet alone would sleep 45 s; under the 20 s timeout it would have failed the build.
        assertThat(took).as(r.describe()).isLessThan(Duration.ofSeconds(45));
        System.out.println("FIGURE trapdep + 2 dependents, --jobs 2, build.timeout 20s: " + took.toMillis() + " ms");

        JsonNode doc = JSON.readTree(r.stdout());
        for (String user : List.of("trapuser", "trapuser2")) {
            String log = Files.readString(record(doc, user).resolve("build.log"));
            assertThat(log).contains("install build dependencies [trapdep-1.0-1.noarch.rpm]")
                    .contains("(without their scriptlets and triggers)")
                    .contains("trap marker: absent")
                    .doesNotContain("trap marker: present")
                    // The files arrived with the owners and modes the package asks for (CHOWN, FOWNER, DAC_OVERRIDE at work).
                    .contains("dependency file: nobody:nogroup 640")
                    .contains("dependency in rpmdb: trapdep-1.0-1.noarch")
                    .contains("build uid: 1000");
        }
        // The trap was armed: the RPM that was installed carries every scriptlet and trigger kind.
        Path trapdep = null;
        for (JsonNode rpm : rpms(doc, "trapdep")) {
            if (rpm.asString().endsWith("trapdep-1.0-1.noarch.rpm")) {
                trapdep = Path.of(rpm.asString());
            }
        }
        assertThat(trapdep).as(r.describe()).isNotNull();
        String scripts = TestRpms.run("rpm", "-qp", "--scripts", "--triggers", "--filetriggers", trapdep.toString()).output();
        for (String kind : List.of("pretrans", "pre", "post", "posttrans", "triggerin", "filetriggerin", "transfiletriggerin")) {
            assertThat(scripts).contains("echo " + kind + " >> " + MARKER + "; sleep 45");
        }
    }

    @Test
    @Order(3)
    void twoConcurrentBuildsWithTheSameDependencyEachGetTheirOwnImageAndBothSucceed() throws Exception {
        // trapdep is published now: both builds install the very same RPM file.
        Process a = project.start(List.of("build", "trapuser", "--force", "--no-publish", "--json"), Map.of());
        Process b = project.start(List.of("build", "trapuser2", "--force", "--no-publish", "--json"), Map.of());
        CompletableFuture<KilnProject.Result> fa = CompletableFuture.supplyAsync(() -> finish(a));
        KilnProject.Result rb = finish(b);
        KilnProject.Result ra = fa.join();
        assertThat(ra.exitCode()).as(ra.describe()).isZero();
        assertThat(rb.exitCode()).as(rb.describe()).isZero();
        String logA = Files.readString(record(JSON.readTree(ra.stdout()), "trapuser").resolve("build.log"));
        String logB = Files.readString(record(JSON.readTree(rb.stdout()), "trapuser2").resolve("build.log"));
        String imageA = dependencyImage(logA);
        String imageB = dependencyImage(logB);
        assertThat(imageA).as("each build has an image of its own").isNotEqualTo(imageB);
        // Both ran at the same time: each one's image existed while the other was building.
        assertThat(logA).contains("trap marker: absent");
        assertThat(logB).contains("trap marker: absent");
    }

    @Test
    @Order(4)
    void aRemoteSourceLargerThanTheHeapIsStreamedIntoTheBuild() throws Exception {
        long size = 600L << 20;
        Path partial = Files.createTempFile(tmp, "big", ".part");
        String sha512 = writeRandom(partial, size);
        Path cached = project.root().resolve(".kiln/cache/sha512/" + sha512);
        Files.createDirectories(cached.getParent());
        Files.move(partial, cached);
        project.write("specs/bigsrc/bigsrc.spec", BIGSRC.replace("@SHA512@", sha512).replace("@SIZE@", Long.toString(size)));
        project.write("specs/bigsrc/sources", "SHA512 (bigsrc-1.0.bin) = " + sha512 + "\n");
        project.commit("bigsrc: a 600 MiB upstream source");

        long started = System.nanoTime();
        Process p = project.start(List.of("build", "bigsrc", "--no-publish", "--json"),
                Map.of("JAVA_TOOL_OPTIONS", "-Xmx128m"));
        CompletableFuture<Long> peak = CompletableFuture.supplyAsync(() -> peakRss(p));
        KilnProject.Result r = finish(p);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        long peakKib = peak.join();
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stderr()).contains("Picked up JAVA_TOOL_OPTIONS: -Xmx128m");
        String log = Files.readString(record(JSON.readTree(r.stdout()), "bigsrc").resolve("build.log"));
        assertThat(log).contains("big source: OK");
        // The whole CLI process stayed far below the size of the source it handed over.
        assertThat(peakKib * 1024).isLessThan(size);
        System.out.println("FIGURE 600 MiB remote source, CLI -Xmx128m: peak RSS (VmHWM) " + peakKib / 1024 + " MiB, "
                + took.toMillis() + " ms for ./kiln build bigsrc --no-publish");
    }

    private static final String TRAPDEP = """
            Name:           trapdep
            Version:        1.0
            Release:        1
            Summary:        A build dependency whose scriptlets must never run
            License:        MIT
            BuildArch:      noarch

            %description
            Every scriptlet and trigger writes a marker, sleeps 45 s and tries the network.

            %define trap() echo %1 >> /var/tmp/trapdep-ran; sleep 45; bash -c 'echo > /dev/tcp/1.1.1.1/53' 2>/dev/null && echo %1-network >> /var/tmp/trapdep-ran; true

            %install
            mkdir -p %{buildroot}%{_datadir}/trapdep/owned
            echo 'trapped() { echo trapped; }' > %{buildroot}%{_datadir}/trapdep/lib.sh
            echo secret > %{buildroot}%{_datadir}/trapdep/owned/secret

            %pretrans
            %trap pretrans
            %pre
            %trap pre
            %post
            %trap post
            %posttrans
            %trap posttrans
            %triggerin -- trapdep
            %trap triggerin
            %filetriggerin -- /usr/share/trapdep
            %trap filetriggerin
            %transfiletriggerin -- /usr/share/trapdep
            %trap transfiletriggerin

            %files
            %{_datadir}/trapdep/lib.sh
            %dir %attr(0755,nobody,nogroup) %{_datadir}/trapdep/owned
            %attr(0640,nobody,nogroup) %{_datadir}/trapdep/owned/secret
            """;

    private static String trapUser(String name) {
        return """
                Name:           @NAME@
                Version:        1.0
                Release:        1
                Summary:        Builds on trapdep
                License:        MIT
                BuildArch:      noarch
                BuildRequires:  trapdep

                %description
                Reports what the installation of its build dependency left in the build image.

                %build
                test -f %{_datadir}/trapdep/lib.sh
                if [ -e /var/tmp/trapdep-ran ]; then echo "trap marker: present: $(cat /var/tmp/trapdep-ran)"; exit 1; fi
                echo "trap marker: absent"
                echo "dependency file: $(stat -c '%%U:%%G %%a' %{_datadir}/trapdep/owned/secret)"
                echo "dependency in rpmdb: $(rpm -q trapdep)"
                echo "build uid: $(id -u)"

                %install
                install -D -m 0644 %{_datadir}/trapdep/lib.sh %{buildroot}%{_datadir}/@NAME@/lib.sh

                %files
                %{_datadir}/@NAME@/lib.sh
                """.replace("@NAME@", name);
    }

    // NoSource: the source RPM leaves the big source out, so what is measured is the source going in.
    private static final String BIGSRC = """
            Name:           bigsrc
            Version:        1.0
            Release:        1
            Summary:        Built from an upstream source larger than the CLI's heap
            License:        MIT
            BuildArch:      noarch
            Source0:        https://downloads.example.invalid/bigsrc/bigsrc-1.0.bin
            NoSource:       0

            %description
            Checks that its 600 MiB source arrived whole.

            %build
            test "$(stat -c %%s %{SOURCE0})" = @SIZE@
            echo "@SHA512@  %{SOURCE0}" | sha512sum -c - && echo "big source: OK"

            %install
            mkdir -p %{buildroot}%{_datadir}/bigsrc
            echo @SIZE@ > %{buildroot}%{_datadir}/bigsrc/size

            %files
            %{_datadir}/bigsrc/size
            """;

    /** Incompressible bytes (a fast PRNG), written and hashed in one pass; returns the SHA-512. */
    private static String writeRandom(Path file, long size) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-512");
        SplittableRandom random = new SplittableRandom(42);
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= block.length) {
                for (int i = 0; i < block.length; i += 8) {
                    long v = random.nextLong();
                    for (int j = 0; j < 8; j++) {
                        block[i + j] = (byte) (v >>> (8 * j));
                    }
                }
                int n = (int) Math.min(block.length, left);
                out.write(block, 0, n);
                sha.update(block, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The highest VmHWM (KiB) seen while {@code p} runs; VmHWM is the process's own peak, so the last reading is it. */
    private static long peakRss(Process p) {
        Path status = Path.of("/proc/" + p.pid() + "/status");
        long peak = 0;
        while (p.isAlive()) {
            try {
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("VmHWM:")) {
                        peak = Math.max(peak, Long.parseLong(line.replaceAll("\\D", "")));
                    }
                }
                Thread.sleep(50);
            } catch (IOException ended) {
                break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return peak;
    }

    private static KilnProject.Result finish(Process p) {
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        try {
            assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return new KilnProject.Result(p.exitValue(), out, err.join());
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static JsonNode build(JsonNode doc, String pkg) {
        for (JsonNode b : doc.get("builds")) {
            if (b.get("package").asString().equals(pkg)) {
                return b;
            }
        }
        throw new AssertionError("no build of " + pkg + " in " + doc);
    }

    private static Path record(JsonNode doc, String pkg) {
        return Path.of(build(doc, pkg).get("record").asString());
    }

    private static JsonNode rpms(JsonNode doc, String pkg) {
        return build(doc, pkg).get("rpms");
    }

    private static String dependencyImage(String log) {
        Matcher m = Pattern.compile("into (" + Pattern.quote(DependencyImage.REPOSITORY) + ":\\w+)").matcher(log);
        assertThat(m.find()).as(log).isTrue();
        return m.group(1);
    }

    private static String pinnedImage() {
        return project.read("containers/rpm-builder/image.lock").lines().filter(l -> l.startsWith("image: "))
                .map(l -> l.substring("image: ".length()).strip()).findFirst().orElseThrow();
    }

    /** Tagged kiln/deps, or labelled as one (an image left untagged would still count). */
    private static Set<String> dependencyImages() {
        Set<String> ids = engine.client().listImagesCmd().withLabelFilter(Map.of(DependencyImage.LABEL, "true")).exec().stream()
                .map(i -> i.getId()).collect(Collectors.toSet());
        engine.client().listImagesCmd().exec().stream()
                .filter(i -> i.getRepoTags() != null
                        && List.of(i.getRepoTags()).stream().anyMatch(t -> t.startsWith(DependencyImage.REPOSITORY + ":")))
                .forEach(i -> ids.add(i.getId()));
        return ids;
    }

    private static Set<String> buildContainers() {
        return engine.client().listContainersCmd().withShowAll(true).withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec().stream()
                .map(c -> c.getId()).collect(Collectors.toSet());
    }
}
