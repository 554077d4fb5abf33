package dev.kiln.repo.http;

import static dev.kiln.repo.DirectoryRepository.PACKAGES;
import static dev.kiln.repo.DirectoryRepository.REPODATA;
import static dev.kiln.repo.DirectoryRepository.SOURCES;

import dev.kiln.KilnException;
import dev.kiln.Sha256;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.repo.Publication;
import dev.kiln.repo.PrunePlan;
import dev.kiln.repo.Pruning;
import dev.kiln.repo.DeferredDeletions;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Bandwidth;
import dev.kiln.repo.Replica;
import dev.kiln.repo.ReplicaSource;
import dev.kiln.repo.RetainedMetadata;
import dev.kiln.repo.repodata.MetadataDocument;
import dev.kiln.repo.repodata.PackageMetadata;
import dev.kiln.repo.repodata.Repodata;
import dev.kiln.repo.repodata.ServedPrimary;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.SigningKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A repository on a plain web server that accepts WebDAV writes (nginx's dav modules, Apache
 * mod_dav), with the repodata written by Kiln.
 *
 * <p>A publish, under the target's lock ({@link WebDavLock}), writes in this order, so that a client
 * never sees metadata that names files that are not there, and a publisher killed at any moment
 * leaves the repository as it was:
 * <ol>
 *   <li>a journal {@code .kiln/pending/<id>} naming the files it is about to upload;</li>
 *   <li>the packages (and provenance), each uploaded under a temporary name and renamed into place;</li>
 *   <li>a new collection {@code repodata.next-<id>/} holding the new documents (named by checksum),
 *       copies of the replaced ones still within their grace ({@link RetainedMetadata}: a client
 *       that fetched the old {@code repomd.xml} a moment earlier still gets every file it names), and
 *       {@code repomd.xml.asc} and {@code repomd.xml};</li>
 *   <li>one {@code MOVE} of that collection onto {@code repodata/}: the only step clients see, and a
 *       single request, so {@code repomd.xml} and its signature always change together.</li>
 * </ol>
 * The next publish finds what a killed one left (its journal, its collection) and removes every
 * upload that did not go live. The documents a publish appends to are kept in a cache on this
 * machine by checksum, so publishing from the same machine again downloads no metadata.
 *
 * <p>As a {@link Replica} it takes the same lock and goes live by the same steps, with another
 * repository's documents and its signed {@code repomd.xml} instead of new ones; as a
 * {@link ReplicaSource} it is read over HTTP (GET, and PROPFIND to list the package folders).
 */
public final class WebDavTarget implements PublishTarget, Replica, ReplicaSource {

    static final String STAGING_PREFIX = "repodata.next-";
    static final String PENDING = ".kiln/pending";
    /** A prune's journal: the files it takes out of the metadata, written before its new collection. */
    static final String PRUNING = ".kiln/pruning";
    /** The files a prune took out of the metadata, kept until the grace has passed ({@link DeferredDeletions}). */
    static final String REMOVED = ".kiln/removed";
    /** Written into each new repodata collection: which publish made it, so a journal can be matched to a live publish. */
    static final String PUBLISH_ID = ".kiln-publish";

    private final TargetConfig config;
    private final WebDav dav;
    private final Path cache;
    private final Clock clock;

    public WebDavTarget(TargetConfig config, Optional<Credentials> credentials, Path cache) {
        this(config, new WebDav(config, credentials, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build(), Duration.ofMinutes(10)), cache, Clock.systemUTC());
    }

    /** @param requestTimeout how long a request may go unanswered (a stall) before it is retried */
    public WebDavTarget(TargetConfig config, Optional<Credentials> credentials, Path cache, Duration requestTimeout) {
        this(config, new WebDav(config, credentials, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build(), requestTimeout), cache, Clock.systemUTC());
    }

    WebDavTarget(TargetConfig config, WebDav dav, Path cache, Clock clock) {
        this.config = config;
        this.dav = dav;
        this.cache = cache;
        this.clock = clock;
    }

    @Override
    public TargetConfig config() {
        return config;
    }

    @Override
    public URI baseUrl() {
        return dav.base();
    }

    @Override
    public void check() {
        // Reading repomd.xml proves the server answers and accepts the credentials for reading. A publish also
        // needs PUT, MOVE and DELETE (a read-only account, or a server without WebDAV methods, would otherwise
        // fail only after the build): one empty file goes through each, under .kiln/ where no client looks.
        dav.get(REPODATA + "/" + Repodata.REPOMD);
        dav.mkcol("");
        dav.mkcol(".kiln/");
        String probe = ".kiln/probe-" + java.util.UUID.randomUUID();
        dav.put(probe + ".part", new byte[0]);
        dav.move(probe + ".part", probe, true);
        dav.delete(probe);
    }

    /** Nothing held between requests. */
    @Override
    public void close() {
    }

    @Override
    public Optional<byte[]> read(String path) {
        return dav.get(path);
    }

    @Override
    public List<String> list(String folder) {
        return dav.list(folder + "/").stream().filter(n -> !n.startsWith(".") && !n.contains("/")).sorted().toList();
    }

    @Override
    public void download(String path, Path file) {
        if (!dav.download(path, file)) {
            throw KilnException.environment("source " + config.name() + " (" + dav.base() + ") has no " + path
                    + " although its metadata names it: run ./kiln repo verify --target " + config.name());
        }
    }

    /**
     * A sync's visit under the lock a publish takes, after what killed operations left is removed;
     * its uploads are journalled as a publish's are, so a sync killed half-way leaves nothing the
     * next operation cannot find.
     */
    @Override
    public <T> T underLock(java.util.function.Function<Replica.Session, T> work) {
        String id = UUID.randomUUID().toString();
        try (WebDavLock lock = WebDavLock.acquire(dav, config, clock, id)) {
            byte[] earlier = liveKilnRepomd().orElse(null);
            if (earlier != null) {
                fetchDocuments(earlier);
            }
            removeLeftovers(earlier);
            T result = work.apply(new ReplicaSession(earlier, id, lock));
            dav.delete(PENDING + "/" + id);
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException("syncing " + config.describe() + " failed", e);
        }
    }

    /** One sync's visit, holding {@code lock}. */
    private final class ReplicaSession implements Replica.Session {
        private final byte[] earlier;
        private final String id;
        private final WebDavLock lock;

        ReplicaSession(byte[] earlier, String id, WebDavLock lock) {
            this.earlier = earlier;
            this.id = id;
            this.lock = lock;
        }

        @Override
        public Optional<byte[]> repomd() {
            return Optional.ofNullable(earlier);
        }

        @Override
        public Optional<byte[]> signature() {
            return earlier == null ? Optional.empty() : dav.get(REPODATA + "/" + Repodata.REPOMD_SIGNATURE);
        }

        @Override
        public Map<String, String> listed() {
            Map<String, String> listed = new HashMap<>();
            if (earlier != null) {
                try {
                    Repodata.listed(documents(), earlier, l -> listed.put(l.href(), l.pkgid()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return listed;
        }

        @Override
        public Set<String> files() {
            Set<String> files = new HashSet<>();
            for (String folder : List.of(PACKAGES, SOURCES)) {
                list(folder).forEach(n -> files.add(folder + "/" + n));
            }
            return files;
        }

        @Override
        public Set<String> metadataFiles() {
            return earlier == null ? Set.of() : new HashSet<>(dav.list(REPODATA + "/"));
        }

        @Override
        public void placing(List<String> paths) {
            dav.mkcol(".kiln/");
            dav.mkcol(PENDING + "/");
            dav.put(PENDING + "/" + id, String.join("\n", paths).getBytes(StandardCharsets.UTF_8));
            dav.mkcol(PACKAGES + "/");
            dav.mkcol(SOURCES + "/");
        }

        @Override
        public void place(String path, Path file, Bandwidth bandwidth) {
            if (!isPackagePath(path)) {
                throw new IllegalArgumentException(path + " is not a package path");
            }
            String temp = folder(path) + "/." + name(path) + "." + id + ".part";
            try {
                upload(temp, file, bandwidth);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            renameInto(temp, path);
            synchronized (lock) {
                lock.renewIfDue();
            }
        }

        @Override
        public void swapInMetadata(byte[] repomd, byte[] signature, byte[] publicKey, Map<String, Path> documents, Bandwidth bandwidth) {
            try {
                swapIn(earlier, documents, metadataFiles(), repomd, signature, publicKey, id, lock, bandwidth);
                // the cache holds documents by checksum: what the next publish from this machine appends to
                Files.createDirectories(documents());
                for (Map.Entry<String, Path> doc : documents.entrySet()) {
                    Path temp = documents().resolve(".fetch-" + UUID.randomUUID());
                    Files.copy(doc.getValue(), temp);
                    Files.move(temp, documents().resolve(doc.getKey()), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public dev.kiln.repo.Verification verify(SigningKey key) {
        Path scratch = null;
        try {
            scratch = Files.createTempDirectory(Files.createDirectories(cache), "verify-");
            Path folder = scratch;
            return dev.kiln.repo.Verification.check(config.name(), path -> {
                // metadata under its own name (the package list is read by name), packages one at a time
                Path file = folder.resolve(path.startsWith(REPODATA + "/") ? name(path) : "package.rpm");
                Files.deleteIfExists(file);
                return dav.download(path, file) ? Optional.of(file) : Optional.empty();
            }, key);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (scratch != null) {
                deleteTree(scratch);
            }
        }
    }

    @Override
    public List<Nevra> list() {
        Optional<byte[]> repomd = dav.get(REPODATA + "/" + Repodata.REPOMD);
        if (repomd.isEmpty()) {
            return List.of();
        }
        if (Repodata.entries(repomd.get()).isEmpty()) {
            throw KilnException.badInput("target " + config.name() + ": " + dav.uri(REPODATA + "/" + Repodata.REPOMD)
                    + " was not written by Kiln: publish to an empty location, or let Kiln own this repository's metadata");
        }
        try {
            fetchDocuments(repomd.get());
            return Repodata.listed(documents(), repomd.get()).stream().map(l -> Nevra.parse(l.nevra()))
                    .sorted(Comparator.comparing(Nevra::toString)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Publication publish(List<Path> rpms, Map<Path, byte[]> provenance, SigningKey key) {
        List<RpmFile> incoming = PublishTarget.readSigned(rpms);
        String id = UUID.randomUUID().toString();
        try (WebDavLock lock = WebDavLock.acquire(dav, config, clock, id)) {
            return publishLocked(incoming, provenance, key, id, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("publishing to " + config.describe() + " failed", e);
        }
    }

    @Override
    public Pruning prune(int keep, Pruning.Mode mode, SigningKey key) {
        PrunePlan.checkKeep(keep);
        if (mode == Pruning.Mode.DRY_RUN) {
            try {
                byte[] live = liveKilnRepomd().orElse(null);
                if (live == null) {
                    return Pruning.of(config.name(), keep, PrunePlan.keepNewest(List.of(), keep), List.of(), false);
                }
                fetchDocuments(live);
                PrunePlan plan = plan(live, keep);
                return Pruning.of(config.name(), keep, plan, present(plan), false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        String id = UUID.randomUUID().toString();
        try (WebDavLock lock = WebDavLock.acquire(dav, config, clock, id)) {
            return pruneLocked(keep, key, id, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("pruning " + config.describe() + " failed", e);
        }
    }

    /**
     * A prune under the lock: a journal naming the files it takes out of the metadata, the new
     * repodata without their entries made live as a publish makes it, then the files recorded for
     * deletion once the grace has passed ({@link DeferredDeletions}). Killed before the {@code MOVE},
     * the old repository stands and the next operation removes the collection; killed after, the
     * next operation records the files as this one would have.
     */
    private Pruning pruneLocked(int keep, SigningKey key, String id, WebDavLock lock) throws IOException {
        byte[] earlier = liveKilnRepomd().orElse(null);
        if (earlier == null) {
            return Pruning.of(config.name(), keep, PrunePlan.keepNewest(List.of(), keep), List.of(), false);
        }
        fetchDocuments(earlier);
        removeLeftovers(earlier);
        PrunePlan plan = plan(earlier, keep);
        List<String> present = present(plan);
        if (plan.empty()) {
            return Pruning.of(config.name(), keep, plan, present, false);
        }
        dav.mkcol(".kiln/");
        dav.mkcol(PRUNING + "/");
        dav.put(PRUNING + "/" + id, String.join("\n", present).getBytes(StandardCharsets.UTF_8));
        Path staging = Files.createDirectories(cache.resolve("staging-" + id));
        try {
            Repodata.Written written = Repodata.write(documents(), earlier, plan.removedPkgids(), List.of(), staging, clock.instant());
            goLive(earlier, written, id, key, lock);
        } catch (RuntimeException | IOException e) {
            try {
                removeLeftovers(earlier); // not killed: the collection goes now, as the next operation would remove it
            } catch (RuntimeException | IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        } finally {
            deleteTree(staging);
        }
        settlePrunes(liveKilnRepomd().orElseThrow());
        return Pruning.of(config.name(), keep, plan, present, true);
    }

    /** The live repomd.xml, refused when Kiln did not write it (its packages cannot be removed entry by entry). */
    private Optional<byte[]> liveKilnRepomd() {
        Optional<byte[]> repomd = dav.get(REPODATA + "/" + Repodata.REPOMD);
        if (repomd.isPresent() && Repodata.entries(repomd.get()).isEmpty()) {
            throw KilnException.badInput("target " + config.name() + ": " + dav.uri(REPODATA + "/" + Repodata.REPOMD)
                    + " was not written by Kiln: publish to an empty location, or let Kiln own this repository's metadata");
        }
        return repomd;
    }

    /** What a prune of the set {@code repomd} names (its documents in the cache) removes. */
    private PrunePlan plan(byte[] repomd, int keep) throws IOException {
        return PrunePlan.keepNewest(servedPackages(repomd), keep);
    }

    private List<ServedPrimary.Package> servedPackages(byte[] repomd) throws IOException {
        Path primary = Repodata.document(documents(), repomd, MetadataDocument.PRIMARY).orElseThrow();
        try (var in = Files.newInputStream(primary)) {
            return ServedPrimary.read(in);
        }
    }

    /** The files of {@code plan} the server holds, from one listing of each package folder. */
    private List<String> present(PrunePlan plan) {
        Set<String> there = new HashSet<>();
        for (String folder : List.of(PACKAGES, SOURCES)) {
            dav.list(folder + "/").forEach(n -> there.add(folder + "/" + n));
        }
        return plan.files().stream().filter(there::contains).toList();
    }

    /**
     * Settles every prune journal (under the lock, so none belongs to a running prune): the files of
     * the one whose collection is live are recorded for deletion, the collection of one that never
     * went live is removed. Then deletes the recorded files whose grace has passed, but none that the
     * live metadata ({@code live}) names again (published anew since), nor its provenance or source RPM.
     */
    private void settlePrunes(byte[] live) throws IOException {
        DeferredDeletions record = dav.get(REMOVED).map(b -> DeferredDeletions.parse(new String(b, StandardCharsets.UTF_8)))
                .orElse(DeferredDeletions.NONE);
        List<String> journals = dav.list(PRUNING + "/");
        if (!journals.isEmpty()) {
            String liveId = dav.get(REPODATA + "/" + PUBLISH_ID).map(b -> new String(b, StandardCharsets.UTF_8)).orElse("");
            for (String journal : journals) {
                if (journal.equals(liveId)) {
                    List<String> files = dav.get(PRUNING + "/" + journal)
                            .map(b -> List.of(new String(b, StandardCharsets.UTF_8).split("\n"))).orElse(List.of());
                    record = record.with(files, clock.instant());
                } else {
                    dav.delete(STAGING_PREFIX + journal + "/");
                }
            }
            // recorded before the journals go, so a kill between the two only records the same files again
            dav.put(REMOVED, record.render().getBytes(StandardCharsets.UTF_8));
            for (String journal : journals) {
                dav.delete(PRUNING + "/" + journal);
            }
        }
        List<String> due = record.due(clock.instant(), config.metadataGrace());
        if (due.isEmpty()) {
            return;
        }
        Set<String> served = new HashSet<>();
        if (live != null) {
            for (ServedPrimary.Package p : servedPackages(live)) {
                served.add(p.href());
                served.add(p.href() + DirectoryRepository.PROVENANCE_SUFFIX);
                p.sourceRpm().ifPresent(src -> {
                    served.add(SOURCES + "/" + src);
                    served.add(SOURCES + "/" + src + DirectoryRepository.PROVENANCE_SUFFIX);
                });
            }
        }
        for (String path : due) {
            if (!served.contains(path)) {
                dav.delete(path);
            }
        }
        DeferredDeletions left = record.without(due);
        if (left.since().isEmpty()) {
            dav.delete(REMOVED);
        } else {
            dav.put(REMOVED, left.render().getBytes(StandardCharsets.UTF_8));
        }
    }

    private Publication publishLocked(List<RpmFile> incoming, Map<Path, byte[]> provenance, SigningKey key, String id, WebDavLock lock)
            throws IOException {
        Optional<byte[]> liveRepomd = dav.get(REPODATA + "/" + Repodata.REPOMD);
        byte[] earlier = liveRepomd.orElse(null);
        if (earlier != null && Repodata.entries(earlier).isEmpty()) {
            throw KilnException.badInput("target " + config.name() + ": " + dav.uri(REPODATA + "/" + Repodata.REPOMD)
                    + " was not written by Kiln: publish to an empty location, or let Kiln own this repository's metadata");
        }
        if (earlier != null) {
            fetchDocuments(earlier);
        }
        Map<String, Repodata.Listed> indexed = new HashMap<>();
        Set<String> wanted = new HashSet<>();
        incoming.forEach(r -> wanted.add(href(r)));
        if (earlier != null) {
            Repodata.listed(documents(), earlier, l -> {
                if (wanted.contains(l.href())) {
                    indexed.put(l.href(), l);
                }
            });
        }
        removeLeftovers(earlier);

        // Plan: what is new, what is there with the same bytes, what would change a release.
        List<RpmFile> newRpms = new ArrayList<>();
        Map<String, byte[]> newDocs = new LinkedHashMap<>();
        List<String> unchanged = new ArrayList<>();
        for (RpmFile rpm : incoming) {
            String href = href(rpm);
            Repodata.Listed listed = indexed.get(href);
            boolean published;
            if (listed != null) {
                published = true;
                // hashed only to compare with what is listed: a new package is hashed once, as it is indexed
                if (!listed.pkgid().equals(Sha256.hex(rpm.path()))) {
                    throw changedRelease(href);
                }
            } else if (rpm.source()) {
                published = sameBytes(href, rpm.path());
            } else {
                published = false; // an unindexed binary is the leftover of a publish that never went live
            }
            if (published) {
                unchanged.add(rpm.canonicalFileName());
            } else {
                newRpms.add(rpm);
            }
            byte[] json = provenance.get(rpm.path().toAbsolutePath().normalize());
            if (json == null) {
                json = provenance.get(rpm.path());
            }
            if (json != null) {
                String docHref = href + DirectoryRepository.PROVENANCE_SUFFIX;
                Optional<byte[]> there = dav.get(docHref);
                if (there.isPresent() && published) {
                    if (!java.util.Arrays.equals(there.get(), json)) {
                        throw KilnException.badInput(rpm.canonicalFileName() + DirectoryRepository.PROVENANCE_SUFFIX + " is already published on target "
                                + config.name() + " with different content: provenance, like the RPM it describes, must never be overwritten");
                    }
                    unchanged.add(rpm.canonicalFileName() + DirectoryRepository.PROVENANCE_SUFFIX);
                } else {
                    newDocs.put(docHref, json);
                }
            }
        }
        if (newRpms.isEmpty() && newDocs.isEmpty()) {
            return new Publication(config.name(), List.of(), unchanged, false);
        }

        // 1. the journal, before any upload, so a publisher killed from here on leaves nothing the next one cannot find
        List<String> uploads = new ArrayList<>();
        newRpms.forEach(r -> uploads.add(href(r)));
        uploads.addAll(newDocs.keySet());
        dav.mkcol(".kiln/");
        dav.mkcol(PENDING + "/");
        dav.put(PENDING + "/" + id, String.join("\n", uploads).getBytes(StandardCharsets.UTF_8));

        List<String> added = new ArrayList<>();
        try {
            // 2. packages and provenance, each under a temporary name first: a half-written file never has a release's name
            dav.mkcol(PACKAGES + "/");
            dav.mkcol(SOURCES + "/");
            for (RpmFile rpm : newRpms) {
                String href = href(rpm);
                String temp = folder(href) + "/." + rpm.canonicalFileName() + "." + id + ".part";
                dav.put(temp, rpm.path());
                renameInto(temp, href);
                added.add(rpm.canonicalFileName());
                lock.renewIfDue();
            }
            for (Map.Entry<String, byte[]> doc : newDocs.entrySet()) {
                String temp = folder(doc.getKey()) + "/." + name(doc.getKey()) + "." + id + ".part";
                dav.put(temp, doc.getValue());
                renameInto(temp, doc.getKey());
                added.add(name(doc.getKey()));
            }

            // 3. the new repodata collection
            List<Path> newBinaries = new ArrayList<>();
            Map<Path, String> hrefs = new HashMap<>();
            for (RpmFile rpm : newRpms) {
                if (!rpm.source()) {
                    newBinaries.add(rpm.path());
                    hrefs.put(rpm.path(), href(rpm));
                }
            }
            Path staging = Files.createDirectories(cache.resolve("staging-" + id));
            try {
                List<PackageMetadata> metadata = Repodata.read(newBinaries, hrefs::get);
                Repodata.Written written = Repodata.write(earlier == null ? null : documents(), earlier, metadata, staging, clock.instant());
                goLive(earlier, written, id, key, lock);
            } finally {
                deleteTree(staging);
            }
        } catch (RuntimeException | IOException e) {
            // Not killed, so clean up now: what this publish wrote goes, as the next publish would remove it.
            try {
                removeLeftovers(earlier);
            } catch (RuntimeException | IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        dav.delete(PENDING + "/" + id);
        return new Publication(config.name(), added, unchanged, true);
    }

    /**
     * Steps 3 and 4 of a publish, and of a prune: the new collection with {@code written}'s documents,
     * the retained ones, the signature and repomd.xml, then the one {@code MOVE} clients see; then the
     * new documents go into this machine's cache.
     */
    private void goLive(byte[] earlier, Repodata.Written written, String id, SigningKey key, WebDavLock lock) throws IOException {
        Map<String, Path> documents = new LinkedHashMap<>();
        written.documents().forEach(d -> documents.put(d.file().getFileName().toString(), d.file()));
        swapIn(earlier, documents, Set.of(), written.repomd(), key.detachedSignature(written.repomd()),
                key.armoredPublicKey().getBytes(StandardCharsets.US_ASCII), id, lock, Bandwidth.UNLIMITED);
        Files.createDirectories(documents());
        for (MetadataDocument.Written doc : written.documents()) {
            Files.move(doc.file(), documents().resolve(doc.file().getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * The new collection with {@code documents} (those named in {@code live} copied on the server
     * from the live collection, the others uploaded), the retained ones, the signature and
     * repomd.xml, then the one {@code MOVE} clients see.
     */
    private void swapIn(byte[] earlier, Map<String, Path> documents, Set<String> live, byte[] repomd, byte[] signature, byte[] publicKey,
            String id, WebDavLock lock, Bandwidth bandwidth) throws IOException {
        String next = STAGING_PREFIX + id;
        dav.mkcol(next + "/");
        for (Map.Entry<String, Path> doc : documents.entrySet()) {
            if (live.contains(doc.getKey())) {
                dav.copy(REPODATA + "/" + doc.getKey(), next + "/" + doc.getKey());
            } else {
                upload(next + "/" + doc.getKey(), doc.getValue(), bandwidth);
            }
            lock.renewIfDue();
        }
        Set<String> own = new HashSet<>();
        documents.keySet().forEach(name -> own.add(REPODATA + "/" + name));
        RetainedMetadata retained = retained(earlier, next, own);
        dav.put(next + "/" + RetainedMetadata.FILE, retained.render().getBytes(StandardCharsets.UTF_8));
        dav.put(next + "/" + PUBLISH_ID, id.getBytes(StandardCharsets.UTF_8));
        dav.put(next + "/" + Repodata.REPOMD_SIGNATURE, signature);
        dav.put(next + "/" + Repodata.REPOMD, repomd);
        dav.put(DirectoryRepository.PUBLIC_KEY_FILE, publicKey);

        // 4. the one step clients see
        try {
            dav.move(next + "/", REPODATA + "/", true);
        } catch (KilnException e) {
            // a retried MOVE whose first attempt the server did (its answer lost): the collection is live
            if (!dav.get(REPODATA + "/" + PUBLISH_ID).map(b -> new String(b, StandardCharsets.UTF_8)).orElse("").equals(id)) {
                throw e;
            }
        }
    }

    /** PUTs {@code file}, its bytes paid for on {@code bandwidth} (read again on a retry). */
    private void upload(String path, Path file, Bandwidth bandwidth) throws IOException {
        if (bandwidth.bytesPerSecond() == 0) {
            dav.put(path, file);
            return;
        }
        long size = Files.size(file);
        java.net.http.HttpRequest.BodyPublisher body = java.net.http.HttpRequest.BodyPublishers.fromPublisher(
                java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> {
                    try {
                        return bandwidth.throttle(Files.newInputStream(file));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }), size);
        dav.check(dav.putWith(path, body, List.of()), "PUT", path, 200, 201, 204);
    }

    /** Renames an upload into place; a retried rename whose first attempt the server did counts as done. */
    private void renameInto(String temp, String href) {
        try {
            dav.move(temp, href, true);
        } catch (KilnException e) {
            if (dav.exists(temp) || !dav.exists(href)) {
                throw e;
            }
        }
    }

    /**
     * Copies into the new collection the files of the replaced repomd.xml and those retained earlier
     * within their grace (server side: nothing goes over the network twice).
     */
    private RetainedMetadata retained(byte[] earlier, String next, Set<String> own) throws IOException {
        if (earlier == null) {
            return RetainedMetadata.NONE;
        }
        RetainedMetadata record = dav.get(REPODATA + "/" + RetainedMetadata.FILE)
                .map(b -> RetainedMetadata.parse(new String(b, StandardCharsets.UTF_8))).orElse(RetainedMetadata.NONE);
        RetainedMetadata next0 = record.next(RetainedMetadata.locations(earlier), clock.instant(), config.metadataGrace());
        Set<String> skipped = new HashSet<>();
        Set<String> present = new HashSet<>(dav.list(REPODATA + "/"));
        for (String path : next0.supersededAt().keySet()) {
            String file = Repodata.fileName(path);
            if (own.contains(path) || !present.contains(file)) {
                skipped.add(path);
            } else {
                dav.copy(REPODATA + "/" + file, next + "/" + file);
            }
        }
        return next0.without(skipped);
    }

    /**
     * Removes what killed publishes left, all found from their journals: uploads of a publish that did
     * not go live (binaries not in the index, and its other uploads), their temporary files, and
     * their staging collections; then settles what prunes left ({@link #settlePrunes}). Runs under
     * the lock, so no journal belongs to a running publish.
     */
    private void removeLeftovers(byte[] earlier) throws IOException {
        List<String> journals = dav.list(PENDING + "/");
        String liveId = journals.isEmpty() ? "" : dav.get(REPODATA + "/" + PUBLISH_ID).map(b -> new String(b, StandardCharsets.UTF_8)).orElse("");
        for (String journal : journals) {
            if (!journal.equals(liveId)) {
                Set<String> indexed = new HashSet<>();
                Optional<byte[]> text = dav.get(PENDING + "/" + journal);
                List<String> paths = text.map(b -> List.of(new String(b, StandardCharsets.UTF_8).split("\n"))).orElse(List.of());
                if (earlier != null) {
                    Set<String> binaries = new HashSet<>(paths);
                    Repodata.listed(documents(), earlier, l -> {
                        if (binaries.contains(l.href())) {
                            indexed.add(l.href());
                        }
                    });
                }
                for (String path : paths) {
                    if (!path.isBlank() && isPackagePath(path)) {
                        // the temporary name is made from the journal's id; web servers often list no dot files
                        dav.delete(folder(path) + "/." + name(path) + "." + journal + ".part");
                        if (!indexed.contains(path)) {
                            dav.delete(path);
                        }
                    }
                }
                dav.delete(STAGING_PREFIX + journal + "/");
            }
            dav.delete(PENDING + "/" + journal);
        }
        settlePrunes(earlier);
    }

    private static boolean isPackagePath(String path) {
        return (path.startsWith(PACKAGES + "/") || path.startsWith(SOURCES + "/")) && !path.contains("..");
    }

    private boolean sameBytes(String href, Path local) throws IOException {
        Path there = Files.createDirectories(cache).resolve(".compare-" + UUID.randomUUID());
        try {
            if (!dav.download(href, there)) {
                return false;
            }
            if (Files.mismatch(there, local) != -1) {
                throw changedRelease(href);
            }
            return true;
        } finally {
            Files.deleteIfExists(there);
        }
    }

    private KilnException changedRelease(String href) {
        return KilnException.badInput("RPM " + name(href) + " is already published on target " + config.name()
                + " with different content: a release must never be overwritten; bump the Release and rebuild");
    }

    /** Makes sure the cache holds every document {@code repomd} names, downloading those it lacks. */
    private void fetchDocuments(byte[] repomd) throws IOException {
        Path folder = Files.createDirectories(documents());
        for (Repodata.Entry entry : Repodata.entries(repomd).values()) {
            Path file = folder.resolve(Repodata.fileName(entry.href()));
            if (Files.isRegularFile(file)) {
                continue; // named by its checksum and written whole: what is there is right
            }
            Path temp = folder.resolve(".fetch-" + UUID.randomUUID());
            try {
                if (!dav.download(entry.href(), temp)) {
                    throw KilnException.environment("target " + config.name() + ": " + dav.uri(entry.href())
                            + " is missing although repomd.xml names it: run ./kiln repo verify --target " + config.name());
                }
                if (!Sha256.hex(temp).equals(entry.checksum())) {
                    throw KilnException.environment("target " + config.name() + ": " + dav.uri(entry.href())
                            + " does not match its checksum in repomd.xml: run ./kiln repo verify --target " + config.name());
                }
                Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }

    private Path documents() {
        return cache.resolve("documents");
    }

    private static String href(RpmFile rpm) {
        return DirectoryRepository.servedPath(rpm);
    }

    private static String folder(String href) {
        return href.substring(0, href.lastIndexOf('/'));
    }

    private static String name(String href) {
        return href.substring(href.lastIndexOf('/') + 1);
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a staging folder left in the cache costs disk only
        }
    }
}
