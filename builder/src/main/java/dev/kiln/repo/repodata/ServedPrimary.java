package dev.kiln.repo.repodata;

import dev.kiln.rpm.Nevra;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * The packages of a {@code primary.xml.gz} written by any tool (createrepo_c, a repository
 * manager), read as a stream: for targets whose metadata Kiln does not write.
 */
public final class ServedPrimary {

    private static final Pattern PRIMARY = Pattern.compile(
            "<data type=\"primary\">.*?<location href=\"([^\"]+)\"", Pattern.DOTALL);

    private ServedPrimary() {
    }

    /**
     * One package as primary.xml lists it.
     *
     * @param sourceRpm the file name of the source RPM it was built from ({@code rpm:sourcerpm}), when it names one
     */
    public record Package(Nevra nevra, String checksumType, String checksum, String href, java.util.Optional<String> sourceRpm) {
    }

    /** The {@code location href} of the primary document a repomd.xml names, if it names one. */
    public static java.util.Optional<String> primaryHref(byte[] repomd) {
        Matcher m = PRIMARY.matcher(new String(repomd, StandardCharsets.UTF_8));
        return m.find() ? java.util.Optional.of(m.group(1)) : java.util.Optional.empty();
    }

    /** Every package of a gzip-compressed primary.xml. */
    public static List<Package> read(InputStream gzipped) throws IOException {
        XMLInputFactory factory = XMLInputFactory.newFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        List<Package> packages = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(gzipped, 1 << 16)) {
            XMLStreamReader x = factory.createXMLStreamReader(in);
            String name = null, arch = null, epoch = "", ver = null, rel = null, type = null, sum = null, href = null, source = null;
            boolean inFormat = false;
            while (x.hasNext()) {
                int event = x.next();
                if (event == XMLStreamConstants.START_ELEMENT) {
                    String local = x.getLocalName();
                    switch (local) {
                        case "package" -> {
                            name = arch = ver = rel = type = sum = href = source = null;
                            epoch = "";
                            inFormat = false;
                        }
                        case "format" -> inFormat = true;
                        case "name" -> {
                            if (!inFormat) {
                                name = x.getElementText();
                            }
                        }
                        case "arch" -> {
                            if (!inFormat) {
                                arch = x.getElementText();
                            }
                        }
                        case "version" -> {
                            if (!inFormat) {
                                String e = x.getAttributeValue(null, "epoch");
                                epoch = e == null || e.equals("0") ? "" : e;
                                ver = x.getAttributeValue(null, "ver");
                                rel = x.getAttributeValue(null, "rel");
                            }
                        }
                        case "checksum" -> {
                            if (!inFormat) {
                                type = x.getAttributeValue(null, "type");
                                sum = x.getElementText();
                            }
                        }
                        case "location" -> href = x.getAttributeValue(null, "href");
                        case "sourcerpm" -> {
                            String text = x.getElementText().strip();
                            source = text.isEmpty() ? null : text;
                        }
                        default -> {
                            // the rest of the package is not needed here
                        }
                    }
                } else if (event == XMLStreamConstants.END_ELEMENT && x.getLocalName().equals("package") && name != null) {
                    packages.add(new Package(new Nevra(name, epoch, ver, rel, arch), type, sum, href, java.util.Optional.ofNullable(source)));
                } else if (event == XMLStreamConstants.END_ELEMENT && x.getLocalName().equals("format")) {
                    inFormat = false;
                }
            }
        } catch (XMLStreamException | RuntimeException e) {
            throw new IOException("primary.xml does not parse: " + e.getMessage(), e);
        }
        return packages;
    }
}
