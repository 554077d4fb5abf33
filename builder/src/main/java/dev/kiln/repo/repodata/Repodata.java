package dev.kiln.repo.repodata;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * A repository's {@code repodata/} as Kiln writes it: primary, filelists and other documents
 * ({@link MetadataDocument}), Kiln's package list, and the {@code repomd.xml} naming them by
 * checksum. {@link #write} makes a new set from an earlier one plus new packages without reading
 * the earlier packages again; the caller signs {@code repomd.xml} and makes the set live.
 */
public final class Repodata {

    public static final String REPOMD = "repomd.xml";
    public static final String REPOMD_SIGNATURE = "repomd.xml.asc";
    private static final Pattern DATA = Pattern.compile(
            "<data type=\"([^\"]+)\">\\s*<checksum type=\"sha256\">([0-9a-f]{64})</checksum>\\s*<location href=\"([^\"]+)\"/>");

    private Repodata() {
    }

    /** One {@code <data>} entry of a repomd.xml this class wrote. */
    public record Entry(String type, String checksum, String href) {
    }

    /**
     * The entries of a {@code repomd.xml} this class wrote, by type; empty when it was written by
     * another tool (then the documents must be made again from the packages).
     */
    public static Map<String, Entry> entries(byte[] repomd) {
        String xml = new String(repomd, StandardCharsets.UTF_8);
        Map<String, Entry> entries = new java.util.LinkedHashMap<>();
        Matcher m = DATA.matcher(xml);
        while (m.find()) {
            entries.put(m.group(1), new Entry(m.group(1), m.group(2), m.group(3)));
        }
        for (MetadataDocument d : MetadataDocument.values()) {
            if (!entries.containsKey(d.type())) {
                return Map.of();
            }
        }
        return entries;
    }

    /** A written set: the documents in {@code folder} and the repomd.xml naming them (not yet written). */
    public record Written(List<MetadataDocument.Written> documents, byte[] repomd) {
    }

    /**
     * Writes into {@code folder} the documents listing the packages of the earlier set in
     * {@code earlierFolder} (named by {@code earlierRepomd}, null for an empty repository) followed by
     * {@code added}, the three XML documents compressed at once.
     *
     * @throws IOException also when the earlier set is not one Kiln wrote
     */
    public static Written write(Path earlierFolder, byte[] earlierRepomd, List<PackageMetadata> added, Path folder, Instant now)
            throws IOException {
        return write(earlierFolder, earlierRepomd, java.util.Set.of(), added, folder, now);
    }

    /**
     * Writes the set as {@link #write(Path, byte[], List, Path, Instant)} does, without the earlier
     * packages whose pkgid (SHA-256) is in {@code removed}: their entries are left out of every
     * document and every other entry's member is copied byte for byte ({@link MetadataDocument#write(Path,
     * long, Map, List, Path)}); only the members that held a removed package are compressed again.
     *
     * @throws IllegalArgumentException when the earlier set does not list one of {@code removed}
     */
    public static Written write(Path earlierFolder, byte[] earlierRepomd, java.util.Set<String> removed, List<PackageMetadata> added,
            Path folder, Instant now) throws IOException {
        Map<String, Entry> earlier = earlierRepomd == null ? Map.of() : entries(earlierRepomd);
        if (earlierRepomd != null && earlier.isEmpty()) {
            throw new IOException("repomd.xml was not written by Kiln");
        }
        Map<Long, String> positions = new java.util.HashMap<>();
        if (!removed.isEmpty()) {
            if (earlier.isEmpty()) {
                throw new IllegalArgumentException("nothing published to remove " + removed + " from");
            }
            long[] index = {0};
            listed(earlierFolder, earlierRepomd, l -> {
                if (removed.contains(l.pkgid())) {
                    positions.put(index[0], l.pkgid());
                }
                index[0]++;
            });
            if (new java.util.HashSet<>(positions.values()).size() != removed.size()) {
                throw new IllegalArgumentException("the metadata does not list every package to remove: " + removed);
            }
        }
        Map<MetadataDocument, MetadataDocument.Written> written = new EnumMap<>(MetadataDocument.class);
        try (ExecutorService pool = Executors.newFixedThreadPool(MetadataDocument.values().length)) {
            Map<MetadataDocument, Future<MetadataDocument.Written>> futures = new EnumMap<>(MetadataDocument.class);
            for (MetadataDocument d : MetadataDocument.values()) {
                futures.put(d, pool.submit(() -> {
                    Path earlierFile = null;
                    long count = 0;
                    if (!earlier.isEmpty()) {
                        earlierFile = earlierFolder.resolve(fileName(earlier.get(d.type()).href()));
                        count = d == MetadataDocument.PACKAGES ? 0 : d.packageCount(earlierFile);
                    }
                    return d.write(earlierFile, count, positions, added, folder);
                }));
            }
            for (MetadataDocument d : MetadataDocument.values()) {
                written.put(d, get(futures.get(d)));
            }
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        StringBuilder xml = new StringBuilder(1024);
        xml.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n")
                .append("  <revision>").append(now.getEpochSecond()).append("</revision>\n");
        for (MetadataDocument.Written w : written.values()) {
            xml.append("  <data type=\"").append(w.document().type()).append("\">\n")
                    .append("    <checksum type=\"sha256\">").append(w.checksum()).append("</checksum>\n")
                    .append("    <location href=\"").append(w.href()).append("\"/>\n")
                    .append("    <timestamp>").append(now.getEpochSecond()).append("</timestamp>\n")
                    .append("    <size>").append(w.size()).append("</size>\n")
                    .append("  </data>\n");
        }
        xml.append("</repomd>\n");
        return new Written(List.copyOf(written.values()), xml.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** A package as Kiln's package list records it. */
    public record Listed(String pkgid, String href, String nevra) {
    }

    /**
     * Streams the package list of the set {@code repomd} names in {@code folder}, one package at a
     * time (memory does not grow with the repository).
     */
    public static void listed(Path folder, byte[] repomd, Consumer<Listed> each) throws IOException {
        Entry entry = entries(repomd).get(MetadataDocument.PACKAGES.type());
        if (entry == null) {
            throw new IOException("repomd.xml was not written by Kiln");
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(folder.resolve(fileName(entry.href()))), 1 << 16), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                String[] parts = line.split(" ", 3);
                if (parts.length == 3) {
                    each.accept(new Listed(parts[0], parts[1], parts[2]));
                }
            }
        }
    }

    /** Every package of the set, in the order they were added. */
    public static List<Listed> listed(Path folder, byte[] repomd) throws IOException {
        List<Listed> all = new ArrayList<>();
        listed(folder, repomd, all::add);
        return all;
    }

    /** The file name part of a {@code repodata/...} href. */
    public static String fileName(String href) {
        return href.substring(href.lastIndexOf('/') + 1);
    }

    /** Reads the headers of {@code rpms} on all processors, in their order. */
    public static List<PackageMetadata> read(List<Path> rpms, java.util.function.Function<Path, String> href) {
        if (rpms.size() < 8) {
            return rpms.stream().map(r -> PackageMetadata.read(r, href.apply(r))).toList();
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors())) {
            List<Future<PackageMetadata>> futures = rpms.stream()
                    .map(r -> pool.submit(() -> PackageMetadata.read(r, href.apply(r)))).toList();
            return futures.stream().map(Repodata::get).toList();
        }
    }

    /** The path of a file in a set, for checks that need no parsing. */
    public static Optional<Path> document(Path folder, byte[] repomd, MetadataDocument document) {
        Entry entry = entries(repomd).get(document.type());
        return entry == null ? Optional.empty() : Optional.of(folder.resolve(fileName(entry.href())));
    }

    private static <T> T get(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing repodata", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new java.io.UncheckedIOException(e.getCause() instanceof IOException io ? io : new IOException(e.getCause()));
        }
    }
}
