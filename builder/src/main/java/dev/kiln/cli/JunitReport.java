package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.pipeline.BuildOutcome;
import dev.kiln.pipeline.BuildOutcome.Built;
import dev.kiln.pipeline.BuildOutcome.Failed;
import dev.kiln.pipeline.BuildOutcome.Skipped;
import dev.kiln.pipeline.BuildOutcome.UpToDate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * A build run as a JUnit XML report, the format Jenkins ({@code junit}), GitLab
 * ({@code artifacts:reports:junit}) and GitHub test reporters read: one {@code <testsuite>}, one
 * {@code <testcase>} per package. A built or up-to-date package passes, a failed one carries the
 * tail of its build log, a skipped one says why.
 */
public final class JunitReport {

    /** How many lines of a failed build's log go into the report; the whole log stays in the build record. */
    static final int LOG_TAIL_LINES = 50;
    static final String CLASS_NAME = "kiln.build";

    private JunitReport() {
    }

    public static String render(String suiteName, List<BuildOutcome> outcomes, Duration total) {
        return render(suiteName, outcomes, total, Instant.now().minus(total), hostname());
    }

    static String render(String suiteName, List<BuildOutcome> outcomes, Duration total, Instant started, String hostname) {
        StringWriter text = new StringWriter();
        try {
            XMLStreamWriter xml = XMLOutputFactory.newFactory().createXMLStreamWriter(text);
            xml.writeStartDocument("UTF-8", "1.0");
            xml.writeCharacters("\n");
            xml.writeStartElement("testsuite");
            xml.writeAttribute("name", attribute(suiteName));
            xml.writeAttribute("tests", Integer.toString(outcomes.size()));
            xml.writeAttribute("failures", Long.toString(outcomes.stream().filter(Failed.class::isInstance).count()));
            xml.writeAttribute("errors", "0");
            xml.writeAttribute("skipped", Long.toString(outcomes.stream().filter(Skipped.class::isInstance).count()));
            xml.writeAttribute("time", seconds(total));
            // xs:dateTime without a zone, as Ant writes it; UTC so that runners in any zone agree.
            xml.writeAttribute("timestamp", LocalDateTime.ofInstant(started.truncatedTo(ChronoUnit.SECONDS), ZoneOffset.UTC).toString());
            xml.writeAttribute("hostname", attribute(hostname));
            for (BuildOutcome outcome : outcomes) {
                xml.writeCharacters("\n  ");
                testcase(xml, outcome);
            }
            xml.writeCharacters("\n");
            xml.writeEndElement();
            xml.writeCharacters("\n");
            xml.writeEndDocument();
            xml.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("writing the JUnit report failed", e);
        }
        return text.toString();
    }

    /** Writes the report to {@code file} atomically (temp file beside it, then a move), creating its folders. */
    public static void write(Path file, String suiteName, List<BuildOutcome> outcomes, Duration total) {
        String xml = render(suiteName, outcomes, total);
        Path target = file.toAbsolutePath().normalize();
        Path dir = target.getParent();
        Path temp = null;
        try {
            Files.createDirectories(dir);
            // readable by all: in CI Kiln often runs as root (sudo) and the upload step as the runner's user
            temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
            Files.writeString(temp, xml, StandardCharsets.UTF_8);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temp = null;
        } catch (AccessDeniedException e) {
            throw KilnException.badInput("cannot write the JUnit report " + file + ": " + e.getFile() + " is not writable");
        } catch (IOException e) {
            throw new KilnException(KilnException.BAD_INPUT, "cannot write the JUnit report " + file + ": " + e, e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a leftover hidden temp file is harmless; the error above says what went wrong
                }
            }
        }
    }

    private static void testcase(XMLStreamWriter xml, BuildOutcome outcome) throws XMLStreamException {
        xml.writeStartElement("testcase");
        xml.writeAttribute("classname", CLASS_NAME);
        xml.writeAttribute("name", attribute(outcome.packageName()));
        xml.writeAttribute("time", seconds(switch (outcome) {
            case Built b -> b.result().duration();
            case Failed f -> f.duration();
            case UpToDate u -> Duration.ZERO;
            case Skipped s -> Duration.ZERO;
        }));
        switch (outcome) {
            case Built b -> systemOut(xml, builtText(b));
            case UpToDate u -> systemOut(xml, "up to date: " + u.nevra() + " (build key " + u.buildKey() + ")");
            case Failed f -> {
                xml.writeStartElement("failure");
                xml.writeAttribute("message", attribute(f.message()));
                xml.writeAttribute("type", "exit code " + f.exitCode());
                xml.writeCharacters(text(failureBody(f)));
                xml.writeEndElement();
            }
            case Skipped s -> {
                xml.writeEmptyElement("skipped");
                xml.writeAttribute("message", attribute(s.reason()));
            }
        }
        xml.writeEndElement();
    }

    private static String builtText(Built b) {
        StringBuilder sb = new StringBuilder(b.result().nevra()).append('\n');
        b.result().rpms().forEach(rpm -> sb.append("RPM: ").append(rpm).append('\n'));
        sb.append("signed by key ").append(b.result().keyId())
                .append(b.result().published() ? ", published" : ", not published").append('\n');
        return sb.toString();
    }

    private static void systemOut(XMLStreamWriter xml, String body) throws XMLStreamException {
        xml.writeStartElement("system-out");
        xml.writeCharacters(text(body));
        xml.writeEndElement();
    }

    private static String failureBody(Failed f) {
        StringBuilder sb = new StringBuilder(f.message()).append('\n');
        if (f.log() == null) {
            return sb.append("(no build log: the build failed before it started one)\n").toString();
        }
        sb.append("build log: ").append(f.log()).append('\n');
        try {
            Tail tail = tail(f.log(), LOG_TAIL_LINES);
            sb.append(tail.skipped() > 0 ? "... " + tail.skipped() + " earlier lines, last " + LOG_TAIL_LINES + ":\n" : "\n");
            tail.lines().forEach(line -> sb.append(line).append('\n'));
        } catch (IOException e) {
            sb.append("(the build log could not be read: ").append(e).append(")\n");
        }
        return sb.toString();
    }

    private record Tail(Deque<String> lines, long skipped) {
    }

    /** The last {@code count} lines, streaming, so a huge log costs no memory; bytes that are not UTF-8 become U+FFFD. */
    private static Tail tail(Path log, int count) throws IOException {
        Deque<String> lines = new ArrayDeque<>(count + 1);
        long skipped = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Files.newInputStream(log), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lines.addLast(line);
                if (lines.size() > count) {
                    lines.removeFirst();
                    skipped++;
                }
            }
        }
        return new Tail(lines, skipped);
    }

    /** Attribute values are one line: parsers turn newlines in attributes into spaces anyway. */
    private static String attribute(String value) {
        return text(value == null ? "" : value).replaceAll("\\s+", " ").strip();
    }

    /**
     * Replaces what XML 1.0 cannot hold even escaped (control characters such as ANSI colour
     * escapes, lone surrogates) with a visible {@code \xNN} / {@code \\uNNNN}; the writer escapes the rest.
     */
    static String text(String value) {
        StringBuilder sb = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                sb.append(c).append(value.charAt(++i));
            } else if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD)) {
                sb.append(c);
            } else if (c < 0x20) {
                sb.append(String.format(Locale.ROOT, "\\x%02X", (int) c));
            } else {
                sb.append(String.format(Locale.ROOT, "\\u%04X", (int) c));
            }
        }
        return sb.toString();
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.3f", (d == null ? Duration.ZERO : d).toMillis() / 1000.0);
    }

    private static String hostname() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
