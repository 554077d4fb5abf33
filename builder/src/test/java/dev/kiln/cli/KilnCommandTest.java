package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class KilnCommandTest {

    private final KilnCommand build = new BuildCommand();

    @Test
    void flagsNeverSwallowPositionalsInAnyOrder() {
        for (List<String> tokens : List.of(
                List.of("--json", "hello", "--rev", "HEAD~1"),
                List.of("hello", "--json", "--rev=HEAD~1"),
                List.of("--rev", "HEAD~1", "hello", "--json"))) {
            Invocation inv = build.parse(tokens);
            assertThat(inv.arguments()).containsExactly("hello");
            assertThat(inv.flag("json")).isTrue();
            assertThat(inv.value("rev")).hasValue("HEAD~1");
        }
    }

    @Test
    void unknownOptionIsAnError() {
        assertThatThrownBy(() -> build.parse(List.of("hello", "--jsno")))
                .hasMessage("build: unknown option --jsno (see ./kiln build --help)");
    }

    @Test
    void optionValueMustBeGiven() {
        assertThatThrownBy(() -> build.parse(List.of("hello", "--rev")))
                .hasMessageContaining("--rev needs a value");
        assertThatThrownBy(() -> build.parse(List.of("hello", "--json=maybe")))
                .hasMessageContaining("--json is a flag and takes no value");
    }

    @Test
    void settingsAreOptionsToo() {
        Invocation inv = build.parse(List.of("hello", "--builder", "other", "--build.timeout=45m"));
        assertThat(KilnCommand.settingOverrides(inv)).containsEntry("builder", "other").containsEntry("build.timeout", "45m");
    }

    @Test
    void buildNeedsExactlyOneWayOfNamingPackages() {
        Output out = Output.to(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()),
                new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        for (List<String> tokens : List.of(List.of("--json"), List.of("hello", "--all"), List.of("--all", "--changed-since", "HEAD"))) {
            assertThatThrownBy(() -> build.execute(tokens, out)).as(tokens.toString())
                    .hasMessageContaining("name packages, or give --all, or --changed-since REF: exactly one of them");
        }
    }

    @Test
    void tokenizerKeepsQuotedSpaces() {
        assertThat(StrictCommandParser.tokenize("build 'my pkg' --rev \"a b\" c\\ d"))
                .containsExactly("build", "my pkg", "--rev", "a b", "c d");
    }

    private static final String KEY_TEXT = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQVYBGZzTOPSECRET\n=abcd\n"
            + "-----END PGP PRIVATE KEY BLOCK-----\n";

    @Test
    void keyTextOnTheCommandLineIsRefusedWithoutEchoingIt() {
        for (List<String> tokens : List.of(List.of("hello", "--signing.key=" + KEY_TEXT), List.of("hello", "--signing.key", KEY_TEXT),
                List.of("hello", KEY_TEXT), List.of("--", KEY_TEXT))) {
            assertThatThrownBy(() -> build.parse(tokens))
                    .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                    .hasMessageContaining("holds key material: a secret never goes on the command line")
                    .hasMessageContaining("KILN_SIGNING_KEY")
                    .hasMessageNotContaining("TOPSECRET")
                    .hasMessageNotContaining("BEGIN PGP");
        }
    }

    @Test
    void passphraseOnTheCommandLineIsRefusedWithoutEchoingIt() {
        assertThatThrownBy(() -> build.parse(List.of("hello", "--signing.passphrase=hunter2")))
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessage("build: --signing.passphrase is a secret and never goes on the command line (every user of the host "
                        + "can read it there, and commands are recorded): set KILN_SIGNING_PASSPHRASE instead (see ./kiln build --help)");
        assertThatThrownBy(() -> build.parse(List.of("hello", "--signing.passphrase", "hunter2")))
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void keyFilePathOnTheCommandLineStaysAllowed() {
        assertThat(build.parse(List.of("hello", "--signing.key", "/run/secrets/kiln.asc")).value("signing.key"))
                .hasValue("/run/secrets/kiln.asc");
    }
}
