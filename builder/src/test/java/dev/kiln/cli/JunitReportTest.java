package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import dev.kiln.pipeline.BuildOutcome;
import dev.kiln.pipeline.BuildResult;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class JunitReportTest {

    @TempDir
    Path dir;

    private List<BuildOutcome> mix() throws Exception {
        Path log = dir.resolve("build.log");
        Files.writeString(log, IntStream.rangeClosed(1, 80).mapToObj(i -> "line " + i).collect(Collectors.joining("\n", "", "\n"))
                + "error: File not found: <&\"'> \u001b[31mred\u001b[0m\n");
        BuildResult hello = new BuildResult("hello", "hello-1.0-1.noarch", List.of(Path.of("/r/hello-1.0-1.noarch.rpm")),
                Path.of("/r/hello-1.0-1.src.rpm"), "0123456789ABCDEF", "rpm-builder", "sha256:abc", "c0ffee", false,
                Duration.ofMillis(12_345), Path.of("/r/record.json"), true, "sha256:" + "0".repeat(64));
        return List.of(
                new BuildOutcome.Built(hello),
                new BuildOutcome.UpToDate("maven", "maven-3.9.9-1.noarch", "bk-42"),
                new BuildOutcome.Failed("broken", "rpmbuild failed: <&\"'> bad\u0007bell", 1, log, Duration.ofSeconds(3)),
                new BuildOutcome.Failed("early", "unknown package 'early'", 2, null, Duration.ZERO),
                new BuildOutcome.Skipped("needs-broken", "needs broken, which failed"));
    }

    private static Document parse(String xml) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    private static Element testcase(Document doc, String name) {
        NodeList cases = doc.getElementsByTagName("testcase");
        for (int i = 0; i < cases.getLength(); i++) {
            Element e = (Element) cases.item(i);
            if (e.getAttribute("name").equals(name)) {
                return e;
            }
        }
        throw new AssertionError("no testcase " + name);
    }

    private static Element child(Element parent, String tag) {
        NodeList nodes = parent.getElementsByTagName(tag);
        assertThat(nodes.getLength()).as(tag + " in " + parent.getAttribute("name")).isEqualTo(1);
        return (Element) nodes.item(0);
    }

    @Test
    void countsEveryOutcomeInOneSuite() throws Exception {
        String xml = JunitReport.render("kiln build", mix(), Duration.ofMillis(61_500), Instant.parse("2025-03-04T05:06:07.890Z"), "runner-1");
        Document doc = parse(xml);
        Element suite = doc.getDocumentElement();
        assertThat(suite.getTagName()).isEqualTo("testsuite");
        assertThat(suite.getAttribute("name")).isEqualTo("kiln build");
        assertThat(suite.getAttribute("tests")).isEqualTo("5");
        assertThat(suite.getAttribute("failures")).isEqualTo("2");
        assertThat(suite.getAttribute("errors")).isEqualTo("0");
        assertThat(suite.getAttribute("skipped")).isEqualTo("1");
        assertThat(suite.getAttribute("time")).isEqualTo("61.500");
        assertThat(suite.getAttribute("timestamp")).isEqualTo("2025-03-04T05:06:07");
        assertThat(suite.getAttribute("hostname")).isEqualTo("runner-1");
        assertThat(doc.getElementsByTagName("testcase").getLength()).isEqualTo(5);
        for (String name : List.of("hello", "maven", "broken", "early", "needs-broken")) {
            assertThat(testcase(doc, name).getAttribute("classname")).isEqualTo("kiln.build");
        }
        assertThat(xml).startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    }

    @Test
    void builtPackagePassesWithItsNevraInSystemOut() throws Exception {
        Element hello = testcase(parse(JunitReport.render("s", mix(), Duration.ZERO)), "hello");
        assertThat(hello.getAttribute("time")).isEqualTo("12.345");
        assertThat(hello.getElementsByTagName("failure").getLength()).isZero();
        assertThat(hello.getElementsByTagName("skipped").getLength()).isZero();
        assertThat(child(hello, "system-out").getTextContent()).startsWith("hello-1.0-1.noarch\n")
                .contains("key 0123456789ABCDEF");
    }

    @Test
    void upToDatePackagePassesAndNamesItsBuildKey() throws Exception {
        Element maven = testcase(parse(JunitReport.render("s", mix(), Duration.ZERO)), "maven");
        assertThat(maven.getElementsByTagName("failure").getLength()).isZero();
        assertThat(child(maven, "system-out").getTextContent()).isEqualTo("up to date: maven-3.9.9-1.noarch (build key bk-42)");
    }

    @Test
    void failedPackageCarriesTheEscapedMessageAndTheTailOfItsLog() throws Exception {
        String xml = JunitReport.render("s", mix(), Duration.ZERO);
        Element failure = child(testcase(parse(xml), "broken"), "failure");
        assertThat(failure.getAttribute("message")).isEqualTo("rpmbuild failed: <&\"'> bad\\x07bell");
        assertThat(failure.getAttribute("type")).isEqualTo("exit code 1");
        String body = failure.getTextContent();
        assertThat(body).contains("build log: " + dir.resolve("build.log"))
                .contains("... 31 earlier lines, last 50:")
                .doesNotContain("line 31\n")
                .contains("line 32\n", "line 80\n")
                .contains("error: File not found: <&\"'> \\x1B[31mred\\x1B[0m");
        assertThat(body.lines().filter(l -> l.startsWith("line ")).count()).isEqualTo(49);
        assertThat(xml).doesNotContain("\u001b").doesNotContain("\u0007");
    }

    @Test
    void failureBeforeAnyLogSaysSo() throws Exception {
        Element failure = child(testcase(parse(JunitReport.render("s", mix(), Duration.ZERO)), "early"), "failure");
        assertThat(failure.getAttribute("type")).isEqualTo("exit code 2");
        assertThat(failure.getTextContent()).contains("no build log");
    }

    @Test
    void skippedPackageSaysWhy() throws Exception {
        Element skipped = child(testcase(parse(JunitReport.render("s", mix(), Duration.ZERO)), "needs-broken"), "skipped");
        assertThat(skipped.getAttribute("message")).isEqualTo("needs broken, which failed");
        assertThat(skipped.getChildNodes().getLength()).isZero();
    }

    @Test
    void writesAWorldReadableReportIntoNewFoldersAndReplacesAnOldOne() throws Exception {
        Path file = dir.resolve("build/reports/kiln-junit.xml");
        JunitReport.write(file, "kiln build", mix(), Duration.ofSeconds(1));
        JunitReport.write(file, "kiln build", List.of(), Duration.ofSeconds(1));
        assertThat(parse(Files.readString(file)).getDocumentElement().getAttribute("tests")).isEqualTo("0");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r--r--");
        try (var entries = Files.list(file.getParent())) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("kiln-junit.xml");
        }
    }

    @Test
    void unwritableTargetIsBadInputNamingThePath() throws Exception {
        Path locked = Files.createDirectory(dir.resolve("locked"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r-xr-xr-x")));
        Path file = locked.resolve("kiln-junit.xml");
        // root ignores folder permissions: use a path under a regular file instead, which nobody can create
        Path underFile = Files.writeString(dir.resolve("plain"), "x").resolve("kiln-junit.xml");
        for (Path target : List.of(file, underFile)) {
            if (target == file && "root".equals(System.getProperty("user.name"))) {
                continue;
            }
            assertThatThrownBy(() -> JunitReport.write(target, "s", List.of(), Duration.ZERO))
                    .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(KilnException.BAD_INPUT))
                    .hasMessageContaining(target.toString());
        }
    }
}
