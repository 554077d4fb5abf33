package dev.kiln.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path root;

    @Test
    void fileThenEnvironmentThenOptions() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), "builder: from-file\nbuild:\n  timeout: 5m\nrepository: repo-file\n");
        KilnConfig c = ConfigLoader.load(root, Map.of("KILN_BUILDER", "from-env", "KILN_BUILD_TIMEOUT", "90s"),
                Map.of("builder", "from-option"));
        assertThat(c.builder()).isEqualTo("from-option");
        assertThat(c.build().timeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.repository()).isEqualTo(root.toAbsolutePath().resolve("repo-file"));
        assertThat(c.build().memoryBytes()).isEqualTo(2L << 30);
    }

    @Test
    void unknownSettingNamesTheFile() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), "buidler: x\n");
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of(), Map.of()))
                .hasMessageContaining("kiln.yaml: unknown setting 'buidler'");
    }

    @Test
    void passphraseIsNeverReadFromTheFile() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), "signing:\n  passphrase: secret\n");
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of(), Map.of()))
                .hasMessageContaining("set KILN_SIGNING_PASSPHRASE instead");
    }

    @Test
    void badValuesSayWhatIsExpected() {
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_BUILD_TIMEOUT", "soon"), Map.of()))
                .hasMessage("build.timeout 'soon' is not a duration: write it like 90s, 30m, 2h or 30d");
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_BUILD_PIDS", "-3"), Map.of()))
                .hasMessage("build.pids '-3' must be a positive whole number");
    }

    @Test
    void serviceReleaseBranchAndNotifyUrl() throws Exception {
        ServiceConfig defaults = ConfigLoader.load(root, Map.of(), Map.of()).service();
        assertThat(defaults.releaseBranch()).isEqualTo("main");
        assertThat(defaults.notifyUrl()).isEmpty();
        Files.writeString(root.resolve("kiln.yaml"), "service:\n  release-branch: release/9\n  notify: https://ci.example.com/kiln\n");
        ServiceConfig set = ConfigLoader.load(root, Map.of(), Map.of()).service();
        assertThat(set.releaseBranch()).isEqualTo("release/9");
        assertThat(set.notifyUrl()).contains(java.net.URI.create("https://ci.example.com/kiln"));
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_SERVICE_RELEASE_BRANCH", "-main"), Map.of()))
                .hasMessage("service.release-branch '-main' is not a branch name: give one like main or release/9");
        for (String bad : new String[] {"ftp://ci.example.com/kiln", "ci.example.com/kiln", "https://bot:pw@ci.example.com/kiln"}) {
            assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_SERVICE_NOTIFY", bad), Map.of()))
                    .as(bad).isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                    .hasMessageStartingWith("service.notify is not an http(s) URL").hasMessageNotContaining("pw");
        }
    }

    @Test
    void serviceCanaryAndPublicUrl() {
        ServiceConfig defaults = ConfigLoader.load(root, Map.of(), Map.of()).service();
        assertThat(defaults.canary()).contains(java.time.Duration.ofMinutes(15));
        assertThat(defaults.url()).isEmpty();
        ServiceConfig set = ConfigLoader.load(root, Map.of("KILN_SERVICE_CANARY", "off", "KILN_SERVICE_URL", "https://kiln.example.com/ci"),
                Map.of()).service();
        assertThat(set.canary()).isEmpty();
        assertThat(set.url()).as("a base that builds resolve against").contains(java.net.URI.create("https://kiln.example.com/ci/"));
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_SERVICE_CANARY", "0s"), Map.of()))
                .hasMessage("service.canary '0s' is out of range: give 1s to 168h");
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_SERVICE_URL", "https://admin:pw@kiln.example.com/"), Map.of()))
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessageStartingWith("service.url is not an http(s) URL").hasMessageNotContaining("pw");
    }

    private static final String KEY_TEXT = SigningConfig.ARMOR_HEADER + "\n\nlQVYBGZzSECRET\n-----END PGP PRIVATE KEY BLOCK-----\n";

    @Test
    void signingKeyTextInTheEnvironmentIsTheKeyNotAPath() {
        KilnConfig c = ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", KEY_TEXT, "KILN_SIGNING_PASSPHRASE", "pw"), Map.of());
        assertThat(c.signing().isText()).isTrue();
        assertThat(c.signing().armoredKey()).isEqualTo(KEY_TEXT);
        assertThat(c.signing().origin()).isEqualTo("KILN_SIGNING_KEY");
        assertThat(c.signing().key()).isNull();
        assertThat(c.signing().publicKey()).isNull();
        assertThat(c.signing().passphrase()).containsExactly('p', 'w');
        assertThat(c.toString()).doesNotContain("SECRET");
    }

    @Test
    void signingKeyPathInTheEnvironmentStaysAPath() {
        KilnConfig c = ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", "/run/secrets/kiln.asc"), Map.of());
        assertThat(c.signing().isText()).isFalse();
        assertThat(c.signing().key()).isEqualTo(Path.of("/run/secrets/kiln.asc"));
        assertThat(c.signing().publicKey()).isEqualTo(Path.of("/run/secrets/kiln.asc.pub"));
    }

    @Test
    void signingKeyTextIsRefusedInKilnYamlWithoutEchoingIt() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), "signing:\n  key: |\n" + KEY_TEXT.indent(4));
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of(), Map.of()))
                .hasMessageContaining("signing.key must name a key file, not hold the key")
                .hasMessageContaining("KILN_SIGNING_KEY")
                .hasMessageNotContaining("SECRET");
    }

    @Test
    void signingKeyVariableHoldingAPublicKeyOrOtherTextIsBadInputWithoutEchoingIt() {
        String publicBlock = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQGNBGSECRET\n-----END PGP PUBLIC KEY BLOCK-----\n";
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", publicBlock), Map.of()))
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessageStartingWith("KILN_SIGNING_KEY holds an OpenPGP block that is not a secret key")
                .hasMessageNotContaining("SECRET");
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of("KILN_SIGNING_KEY", "lQVYBGZzSECRET\nmore"), Map.of()))
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessageStartingWith("KILN_SIGNING_KEY is neither a file path nor an ASCII-armored secret key")
                .hasMessageNotContaining("SECRET");
    }

    private String refusal(Map<String, String> env, Map<String, String> options) {
        try {
            ConfigLoader.load(root, env, options);
        } catch (dev.kiln.KilnException e) {
            assertThat(e.exitCode()).as(e.getMessage()).isEqualTo(2);
            assertThat(e.getMessage()).as("one line").doesNotContain("\n");
            return e.getMessage();
        }
        throw new AssertionError("accepted " + env + " " + options);
    }

    @Test
    void limitsOutsideTheirRangeAreBadInputNamingTheRange() {
        assertThat(refusal(Map.of("KILN_BUILD_MEMORY", "0"), Map.of())).isEqualTo("build.memory '0' is out of range: give 64m to 1024g");
        assertThat(refusal(Map.of("KILN_BUILD_MEMORY", "4m"), Map.of())).isEqualTo("build.memory '4m' is out of range: give 64m to 1024g");
        // 99999999999 << 30 wraps to a negative count; a 30-digit count does not even fit a long
        assertThat(refusal(Map.of("KILN_BUILD_MEMORY", "99999999999g"), Map.of())).contains("out of range: give 64m to 1024g");
        assertThat(refusal(Map.of(), Map.of("build.memory", "9".repeat(30)))).contains("out of range: give 64m to 1024g");
        assertThat(refusal(Map.of("KILN_BUILD_MEMORY", "1025g"), Map.of())).contains("out of range");
        assertThat(refusal(Map.of("KILN_BUILD_TIMEOUT", "0s"), Map.of())).isEqualTo("build.timeout '0s' is out of range: give 1s to 168h");
        assertThat(refusal(Map.of("KILN_BUILD_TIMEOUT", "169h"), Map.of())).contains("out of range");
        assertThat(refusal(Map.of("KILN_BUILD_TIMEOUT", "99999999999999999999h"), Map.of())).contains("out of range");
        assertThat(refusal(Map.of("KILN_BUILD_PIDS", "99999999999"), Map.of())).isEqualTo("build.pids '99999999999' is out of range: give 16 to 4194304");
        assertThat(refusal(Map.of("KILN_BUILD_PIDS", "9".repeat(25)), Map.of())).contains("out of range: give 16 to 4194304");
        assertThat(refusal(Map.of("KILN_BUILD_PIDS", "4"), Map.of())).contains("out of range");
        assertThat(refusal(Map.of("KILN_REPO_PORT", "4294967376"), Map.of())).contains("give 1 to 65535");
    }

    @Test
    void limitsAtTheEdgesOfTheirRangeAreAccepted() {
        KilnConfig low = ConfigLoader.load(root, Map.of("KILN_BUILD_MEMORY", "64m", "KILN_BUILD_TIMEOUT", "1s", "KILN_BUILD_PIDS", "16"), Map.of());
        assertThat(low.build()).isEqualTo(new BuildLimits(Duration.ofSeconds(1), 64L << 20, 16));
        KilnConfig high = ConfigLoader.load(root, Map.of("KILN_BUILD_MEMORY", "1024g", "KILN_BUILD_TIMEOUT", "168h",
                "KILN_BUILD_PIDS", "4194304"), Map.of());
        assertThat(high.build()).isEqualTo(new BuildLimits(Duration.ofHours(168), 1L << 40, 4194304));
    }

    @Test
    void systemFoldersAreRefusedAsRepositoryStateOrCacheAlsoThroughALink() throws Exception {
        assertThat(refusal(Map.of(), Map.of("repository", "/etc/yum.repos.d/kiln")))
                .isEqualTo("repository /etc/yum.repos.d/kiln is a system folder: Kiln writes there; choose a folder of its own, "
                        + "like .kiln/repo or /srv/kiln/repo");
        assertThat(refusal(Map.of("KILN_REPOSITORY", "/"), Map.of())).contains("repository / is a system folder");
        assertThat(refusal(Map.of("KILN_STATE", "/usr/local/kiln"), Map.of())).contains("state /usr/local/kiln is a system folder");
        assertThat(refusal(Map.of("KILN_CACHE", "/var/lib"), Map.of())).contains("cache /var/lib is a system folder");
        Files.createSymbolicLink(root.resolve("sneaky"), Path.of("/etc"));
        assertThat(refusal(Map.of(), Map.of("repository", "sneaky/kiln"))).isEqualTo("repository " + root.toRealPath().resolve("sneaky/kiln")
                + " (/etc/kiln) is a system folder: Kiln writes there; choose a folder of its own, like .kiln/repo or /srv/kiln/repo");
        Files.createSymbolicLink(root.resolve("repo-link"), Path.of("/usr"));
        assertThat(refusal(Map.of("KILN_REPOSITORY", "repo-link"), Map.of())).contains("(/usr) is a system folder");
        // a folder of its own below /var/lib or /srv is fine
        assertThat(ConfigLoader.load(root, Map.of("KILN_REPOSITORY", "/var/lib/kiln/repo"), Map.of()).repository())
                .isEqualTo(Path.of("/var/lib/kiln/repo"));
    }

    @Test
    void sourcesFolderIsNoneByDefaultAndNeverTakenFromKilnYaml() throws Exception {
        assertThat(ConfigLoader.load(root, Map.of(), Map.of()).sourcesFolder()).isEmpty();
        Path sources = Files.createDirectories(root.resolve("upstream"));
        assertThat(ConfigLoader.load(root, Map.of("KILN_SOURCES_FOLDER", sources.toString()), Map.of()).sourcesFolder())
                .hasValue(sources.toRealPath());
        assertThat(ConfigLoader.load(root, Map.of(), Map.of("sources.folder", "upstream")).sourcesFolder())
                .hasValue(sources.toRealPath());
        Files.writeString(root.resolve("kiln.yaml"), "sources:\n  folder: /\n");
        assertThat(refusal(Map.of(), Map.of())).contains("kiln.yaml: sources.folder is a setting of the build host")
                .contains("set KILN_SOURCES_FOLDER instead");
    }

    @Test
    void sourcesFolderThatWouldExposeHostFilesOrTheKeyIsRefused() throws Exception {
        Files.createDirectories(root.resolve(".kiln/keys"));
        String message = "would let builds read host files (system folders, Kiln's state or the signing key)";
        assertThat(refusal(Map.of("KILN_SOURCES_FOLDER", "/"), Map.of())).contains(message);
        assertThat(refusal(Map.of("KILN_SOURCES_FOLDER", "/etc"), Map.of())).contains(message);
        assertThat(refusal(Map.of("KILN_SOURCES_FOLDER", root.toString()), Map.of())).contains(message);
        assertThat(refusal(Map.of("KILN_SOURCES_FOLDER", ".kiln/keys"), Map.of())).contains(message);
        Path keys = Files.createDirectories(root.resolve("keys"));
        assertThat(refusal(Map.of("KILN_SOURCES_FOLDER", keys.toString(), "KILN_SIGNING_KEY", keys.resolve("k.asc").toString()),
                Map.of())).contains(message);
        assertThat(refusal(Map.of("KILN_SOURCES_FOLDER", "missing"), Map.of())).contains("sources.folder " + root.toAbsolutePath()
                .resolve("missing") + " is not a folder");
    }

    @Test
    void secretsAreRefusedAsOptionsAndRedactedWhenRecorded() {
        assertThat(refusal(Map.of(), Map.of("signing.key", KEY_TEXT))).startsWith("--signing.key holds key text")
                .doesNotContain("SECRET");
        assertThat(refusal(Map.of(), Map.of("signing.passphrase", "hunter2"))).contains("set KILN_SIGNING_PASSPHRASE")
                .doesNotContain("hunter2");
        assertThat(ConfigLoader.recordable("signing.key", KEY_TEXT)).isEqualTo(ConfigLoader.REDACTED);
        assertThat(ConfigLoader.recordable("signing.passphrase", "hunter2")).isEqualTo(ConfigLoader.REDACTED);
        assertThat(ConfigLoader.recordable("", "prefix " + KEY_TEXT)).isEqualTo(ConfigLoader.REDACTED);
        assertThat(ConfigLoader.recordable("signing.key", "/run/secrets/kiln.asc")).isEqualTo("/run/secrets/kiln.asc");
        assertThat(ConfigLoader.recordable("rev", "HEAD")).isEqualTo("HEAD");
    }

    @Test
    void serviceDatabaseIsAUrlWithoutPasswordWhosePasswordComesFromTheEnvironmentOnly() throws Exception {
        assertThat(ConfigLoader.load(root, Map.of(), Map.of()).service().database()).as("the embedded database").isEmpty();
        String url = "jdbc:postgresql://db.example:5432/kiln?user=kiln";
        Files.writeString(root.resolve("kiln.yaml"), "service:\n  database: " + url + "\n");
        ServiceConfig service = ConfigLoader.load(root, Map.of("KILN_SERVICE_DATABASE_PASSWORD", "hunter2"), Map.of()).service();
        assertThat(service.database()).contains(url);
        assertThat(service.databasePassword()).contains("hunter2");
        assertThat(service.toString()).doesNotContain("hunter2");
        assertThat(ConfigLoader.recordable("service.database-password", "hunter2")).isEqualTo(ConfigLoader.REDACTED);

        for (String leaky : new String[] {url + "&password=hunter2", "jdbc:postgresql://db.example/kiln?PASSWORD=hunter2&user=kiln",
                "jdbc:postgresql://kiln:hunter2@db.example/kiln", "postgres://kiln:hunter2@db.example/kiln"}) {
            assertThat(refusal(Map.of("KILN_SERVICE_DATABASE", leaky), Map.of())).as(leaky).doesNotContain("hunter2")
                    .startsWith("service.database ");
        }
        assertThat(refusal(Map.of("KILN_SERVICE_DATABASE", url + "&password=hunter2"), Map.of())).isEqualTo("service.database holds"
                + " a password: remove it from the URL and set KILN_SERVICE_DATABASE_PASSWORD instead (kiln.yaml is read by everyone"
                + " who can read the branch)");
        assertThat(refusal(Map.of("KILN_SERVICE_DATABASE", "mysql://db/kiln"), Map.of())).startsWith("service.database is not a PostgreSQL JDBC URL");
        assertThat(refusal(Map.of(), Map.of("service.database-password", "hunter2"))).contains("set KILN_SERVICE_DATABASE_PASSWORD")
                .doesNotContain("hunter2");

        Files.writeString(root.resolve("kiln.yaml"), "service:\n  database: " + url + "\n  database-password: hunter2\n");
        assertThat(refusal(Map.of(), Map.of())).contains("service.database-password must not be written in a file: set"
                + " KILN_SERVICE_DATABASE_PASSWORD instead").doesNotContain("hunter2");
    }

    @Test
    void kilnYamlThatIsALinkIsRefusedNotRead(@TempDir Path host) throws Exception {
        Path secret = Files.writeString(host.resolve("credentials"), "AWS_SECRET: TOPSECRET\n");
        Files.createSymbolicLink(root.resolve("kiln.yaml"), secret);
        assertThat(refusal(Map.of(), Map.of())).isEqualTo(root.toAbsolutePath().normalize().resolve("kiln.yaml")
                + " is a symbolic link: kiln.yaml must be a regular file of the project; replace it with the file itself");
    }

    @Test
    void withoutTargetsTheRepositoryFolderIsTheOneTarget() {
        KilnConfig c = ConfigLoader.load(root, Map.of(), Map.of());
        assertThat(c.targets()).hasSize(1);
        assertThat(c.target(java.util.Optional.empty()).name()).isEqualTo("local");
        assertThat(c.target(java.util.Optional.empty()).path()).contains(c.repository());
    }

    @Test
    void targetsAreANamedListAndTheFirstIsTheDefault() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), """
                targets:
                  - name: company
                    kind: webdav
                    url: https://repo.example.com/rpms
                    metadata-grace: 2h
                  - name: mirror
                    kind: directory
                    path: out/mirror
                """);
        KilnConfig c = ConfigLoader.load(root, Map.of(), Map.of());
        TargetConfig first = c.target(java.util.Optional.empty());
        assertThat(first.name()).isEqualTo("company");
        assertThat(first.kind()).isEqualTo(TargetConfig.Kind.WEBDAV);
        assertThat(first.url()).contains(java.net.URI.create("https://repo.example.com/rpms/"));
        assertThat(first.metadataGrace()).isEqualTo(Duration.ofHours(2));
        assertThat(first.lockTimeout()).isEqualTo(TargetConfig.DEFAULT_LOCK_TIMEOUT);
        assertThat(c.target(java.util.Optional.of("mirror")).path()).contains(root.toAbsolutePath().resolve("out/mirror"));
        assertThatThrownBy(() -> c.target(java.util.Optional.of("nope")))
                .hasMessage("--target 'nope' is not a target of kiln.yaml: known are [company, mirror]");
    }

    @Test
    void credentialsInATargetAreRefusedWithoutEchoingThem() throws Exception {
        Files.writeString(root.resolve("kiln.yaml"), """
                targets:
                  - name: company
                    kind: webdav
                    url: https://repo.example.com/rpms/
                    password: hunter2
                """);
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of(), Map.of()))
                .hasMessageContaining("kiln.yaml: targets[0]: password must not be written in kiln.yaml")
                .hasMessageContaining("KILN_TARGET_<NAME>_USERNAME")
                .message().doesNotContain("hunter2");
        Files.writeString(root.resolve("kiln.yaml"), """
                targets:
                  - name: company
                    kind: webdav
                    url: https://deploy:hunter2@repo.example.com/rpms/
                """);
        assertThatThrownBy(() -> ConfigLoader.load(root, Map.of(), Map.of()))
                .hasMessageContaining("url must not hold a user name or password")
                .message().doesNotContain("hunter2");
    }

    @Test
    void badTargetsNameTheEntryAndWhatIsExpected() throws Exception {
        for (String[] c : new String[][] {
            {"targets: company", "targets must be a list of targets"},
            {"targets:\n  - name: a\n    kind: ftp\n    url: ftp://x/", "target a: kind 'ftp' is not one of directory, webdav"},
            {"targets:\n  - name: a b\n    kind: webdav", "targets[0]: name 'a b' is not a valid target name"},
            {"targets:\n  - name: a\n    kind: webdav\n    url: repo.example.com", "must be an http:// or https:// URL with a host"},
            {"targets:\n  - name: a\n    kind: directory", "a directory target needs path:"},
            {"targets:\n  - name: a\n    kind: artifactory\n    url: https://x/", "needs repository:"},
            {"targets:\n  - name: a\n    kind: webdav\n    url: https://x/\n    lock-timeout: 0s", "lock-timeout '0s' is out of range"},
            {"targets:\n  - name: a\n    kind: webdav\n    url: https://x/\n  - name: a\n    kind: webdav\n    url: https://y/",
                "a second target is named 'a'"},
            {"targets:\n  - name: a\n    kind: webdav\n    url: https://x/\n    colour: red", "unknown key 'colour'"},
        }) {
            Files.writeString(root.resolve("kiln.yaml"), c[0].replace("\\n", "\n") + "\n");
            assertThatThrownBy(() -> ConfigLoader.load(root, Map.of(), Map.of())).as(c[0])
                    .hasMessageContaining(c[1]).hasMessageStartingWith(root.resolve("kiln.yaml").toString());
        }
    }
}
