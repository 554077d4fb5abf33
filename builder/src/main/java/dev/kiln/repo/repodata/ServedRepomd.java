package dev.kiln.repo.repodata;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * A {@code repomd.xml} written by any tool (Kiln, createrepo_c, a repository manager): its revision
 * and every document it names, with the checksum a client checks the document against.
 *
 * @param revision the {@code <revision>} text (Kiln and createrepo_c write the publish time in epoch seconds)
 */
public record ServedRepomd(String revision, List<Document> documents) {

    public ServedRepomd {
        documents = List.copyOf(documents);
    }

    /**
     * One {@code <data>} entry.
     *
     * @param checksumType as repomd spells it: {@code sha256}, {@code sha512}, {@code sha1} or {@code sha}
     * @param timestamp when the document was made, epoch seconds; empty when repomd does not say
     */
    public record Document(String type, String checksumType, String checksum, String href, Optional<Long> timestamp) {
    }

    /**
     * When the repository was last published: the newest document timestamp, or the revision when it
     * is a time in epoch seconds and no document has one.
     */
    public Optional<Instant> newestPublish() {
        Optional<Long> newest = documents.stream().flatMap(d -> d.timestamp().stream()).max(Long::compare);
        if (newest.isEmpty() && revision.matches("[0-9]{9,12}")) {
            newest = Optional.of(Long.parseLong(revision));
        }
        return newest.map(Instant::ofEpochSecond);
    }

    /** The document of {@code type} ({@code primary}, {@code filelists}, ...), if repomd names one. */
    public Optional<Document> document(String type) {
        return documents.stream().filter(d -> d.type().equals(type)).findFirst();
    }

    /** Reads {@code repomd}; no DTD or external entity is resolved. */
    public static ServedRepomd read(byte[] repomd) throws IOException {
        XMLInputFactory factory = XMLInputFactory.newFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        String revision = "";
        List<Document> documents = new ArrayList<>();
        try {
            XMLStreamReader x = factory.createXMLStreamReader(new ByteArrayInputStream(repomd));
            boolean sawRoot = false;
            String type = null, checksumType = null, checksum = null, href = null;
            Long timestamp = null;
            while (x.hasNext()) {
                int event = x.next();
                if (event == XMLStreamConstants.START_ELEMENT) {
                    switch (x.getLocalName()) {
                        case "repomd" -> sawRoot = true;
                        case "revision" -> revision = x.getElementText().strip();
                        case "data" -> {
                            type = x.getAttributeValue(null, "type");
                            checksumType = checksum = href = null;
                            timestamp = null;
                        }
                        case "checksum" -> {
                            if (type != null) {
                                checksumType = x.getAttributeValue(null, "type");
                                checksum = x.getElementText().strip();
                            }
                        }
                        case "location" -> href = x.getAttributeValue(null, "href");
                        case "timestamp" -> {
                            if (type != null) {
                                timestamp = parseTimestamp(x.getElementText().strip());
                            }
                        }
                        default -> {
                            // open-checksum, size and the rest are not needed to fetch and check a document
                        }
                    }
                } else if (event == XMLStreamConstants.END_ELEMENT && x.getLocalName().equals("data")) {
                    if (type == null || checksum == null || href == null) {
                        throw new IOException("a <data> entry lacks its type, checksum or location");
                    }
                    documents.add(new Document(type, checksumType == null ? "" : checksumType, checksum, href,
                            Optional.ofNullable(timestamp)));
                    type = null;
                }
            }
            if (!sawRoot) {
                throw new IOException("it is not a repomd document");
            }
        } catch (XMLStreamException | RuntimeException e) {
            throw new IOException("repomd.xml does not parse: " + e.getMessage(), e);
        }
        return new ServedRepomd(revision, documents);
    }

    /** createrepo_c writes whole seconds; some tools write a fraction. */
    private static Long parseTimestamp(String text) {
        try {
            return (long) Double.parseDouble(text);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
