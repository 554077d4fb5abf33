package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutputTest {

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final Output out = Output.to(new PrintStream(stdout, true, StandardCharsets.UTF_8),
            new PrintStream(stderr, true, StandardCharsets.UTF_8));

    private String err() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    private static boolean hasTerminalControl(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\t') {
                continue;
            }
            if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void logLinesReachTheTerminalWithControlCharactersMadeVisible() {
        out.log("\u001b[2J\u001b[H");                        // clear screen, cursor home
        out.log("\u001b]0;owned\u0007");                     // window title, ended by BEL
        out.log("\u001b[1;32mBuilt\u001b[0m hello-9.9-1\rx");  // forged coloured line, carriage return
        out.log("\u009b31m eight-bit CSI\u007f");
        out.log("right\u202eleft");
        out.log("col1\tcol2");

        assertThat(hasTerminalControl(stderr.toByteArray())).as(err()).isFalse();
        assertThat(err()).contains("  | ^[[2J^[[H")
                .contains("  | ^[]0;owned^G")
                .contains("  | ^[[1;32mBuilt^[[0m hello-9.9-1^Mx")
                .contains("\\u009b31m eight-bit CSI^?")
                .contains("right\\u202eleft")
                .contains("  | col1\tcol2");
    }

    @Test
    void errorsProgressAndResultsAreMadeVisibleToo() {
        out.error("Build output entry out/\u001b[2Jx refused");
        out.progress("Start: \u001b]0;t\u0007");
        out.result("line one\nline \u001b[31mtwo");

        assertThat(hasTerminalControl(stderr.toByteArray())).as(err()).isFalse();
        assertThat(hasTerminalControl(stdout.toByteArray())).isFalse();
        assertThat(err()).contains("kiln: Build output entry out/^[[2Jx refused").contains("Start: ^[]0;t^G");
        assertThat(stdout.toString(StandardCharsets.UTF_8)).isEqualTo("line one\nline ^[[31mtwo" + System.lineSeparator());
    }

    @Test
    void plainTextIsUnchanged() {
        String text = "Wrote: /home/builder/rpmbuild/RPMS/noarch/hello-1.0-1.noarch.rpm é ✓";
        assertThat(Output.visible(text, false)).isSameAs(text);
    }

    @Test
    void logEchoStopsOnceAfterItsLimitAndSaysSo() {
        String line = "x".repeat(1023);
        long lines = 2 * Output.ECHO_BYTES / 1024;
        for (long i = 0; i < lines; i++) {
            out.log(line);
        }
        out.progress("Finish: hello");

        String err = err();
        assertThat(err.length()).isBetween((int) Output.ECHO_BYTES - 2048, (int) Output.ECHO_BYTES + 2048);
        assertThat(err.lines().filter(l -> l.contains("build output not shown from here on"))).hasSize(1);
        assertThat(err.lines().reduce((a, b) -> b).orElseThrow()).as("stages still show").endsWith("Finish: hello");
    }
}
