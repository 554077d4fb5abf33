package dev.kiln.repo;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * The metadata files of earlier {@code repomd.xml} documents that a metadata folder keeps beside its
 * own, as {@code createrepo_c --retain-old-md} does: a client that
 * fetched the previous {@code repomd.xml} just before a publish still finds every file it names,
 * from whichever metadata folder {@code repodata} links to when it asks. dnf reads only what its
 * {@code repomd.xml} names, so the extra files are never indexed.
 *
 * <p>Each file is kept for a grace period counted from the publish that replaced the
 * {@code repomd.xml} naming it (not from the file's own age: a repository unchanged for a week
 * still hands its clients a full grace period when it changes). The record, one line per file
 * ({@code <instant> <path>}), lives in the metadata folder as {@value #FILE}.
 *
 * @param supersededAt path relative to the repository ({@code repodata/x-primary.xml.gz}) to when the
 *     {@code repomd.xml} naming it was replaced
 */
public record RetainedMetadata(Map<String, Instant> supersededAt) {

    /** The record's file name inside a metadata folder. */
    public static final String FILE = ".kiln-retained-metadata";
    /** What a retained path may look like: a plain file directly in {@code repodata/}. */
    private static final Pattern METADATA_PATH = Pattern.compile("repodata/[A-Za-z0-9][A-Za-z0-9._-]*");

    public RetainedMetadata {
        supersededAt = Map.copyOf(new TreeMap<>(supersededAt));
    }

    public static final RetainedMetadata NONE = new RetainedMetadata(Map.of());

    /**
     * What the next metadata folder keeps: every file {@code replacedRepomd} names, superseded {@code now},
     * plus those of this record still within {@code grace} of being superseded.
     */
    public RetainedMetadata next(List<String> replacedRepomd, Instant now, Duration grace) {
        Map<String, Instant> kept = new TreeMap<>();
        Instant cutoff = now.minus(grace);
        supersededAt.forEach((path, at) -> {
            if (!at.isBefore(cutoff)) {
                kept.put(path, at);
            }
        });
        for (String path : replacedRepomd) {
            kept.put(path, now);
        }
        return new RetainedMetadata(kept);
    }

    /** Without the paths in {@code drop}: files the new metadata folder names itself, or that are missing. */
    public RetainedMetadata without(Set<String> drop) {
        Map<String, Instant> kept = new TreeMap<>(supersededAt);
        kept.keySet().removeAll(drop);
        return new RetainedMetadata(kept);
    }

    public String render() {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(supersededAt).forEach((path, at) -> sb.append(at).append(' ').append(path).append('\n'));
        return sb.toString();
    }

    /** Reads a record {@link #render()} wrote; a line that does not parse is skipped, since losing one only shortens its grace. */
    public static RetainedMetadata parse(String text) {
        Map<String, Instant> entries = new TreeMap<>();
        for (String line : text.split("\n")) {
            int space = line.indexOf(' ');
            if (space < 0) {
                continue;
            }
            String path = line.substring(space + 1);
            if (!METADATA_PATH.matcher(path).matches()) {
                continue;
            }
            try {
                entries.put(path, Instant.parse(line.substring(0, space)));
            } catch (DateTimeParseException e) {
                // skipped, see above
            }
        }
        return new RetainedMetadata(entries);
    }

    /**
     * The {@code <location href>} of every {@code <data>} in a {@code repomd.xml}, only those that
     * are plain files in {@code repodata/} (anything else is not the repository's own metadata).
     */
    public static List<String> locations(byte[] repomdXml) throws IOException {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(new DefaultHandler()); // the default one prints to stderr as well as throwing
            NodeList data = builder.parse(new ByteArrayInputStream(repomdXml)).getElementsByTagNameNS("*", "data");
            Set<String> paths = new LinkedHashSet<>();
            for (int i = 0; i < data.getLength(); i++) {
                NodeList locations = ((Element) data.item(i)).getElementsByTagNameNS("*", "location");
                for (int j = 0; j < locations.getLength(); j++) {
                    String href = ((Element) locations.item(j)).getAttribute("href");
                    if (METADATA_PATH.matcher(href).matches()) {
                        paths.add(href);
                    }
                }
            }
            return new ArrayList<>(paths);
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        } catch (SAXException e) {
            throw new IOException("repomd.xml does not parse: " + e.getMessage(), e);
        }
    }
}
