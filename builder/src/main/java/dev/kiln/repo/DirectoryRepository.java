package dev.kiln.repo;

import dev.kiln.KilnException;
import dev.kiln.repo.repodata.PackageMetadata;
import dev.kiln.repo.repodata.Repodata;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.SigningKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A YUM/DNF repository in a plain folder, published atomically, where adding a package costs the
 * same however many the repository holds.
 *
 * <p>Layout (version 2):
 * <pre>
 * Packages/, SRPMS/        every release, flat, each RPM with its provenance document beside it
 * repodata -> .repodata/n  the live metadata folder (repomd.xml, its signature, the documents, the public key)
 * .repodata/k/             earlier metadata folders, removed once their documents are past the grace
 * RPM-GPG-KEY-kiln -> repodata/RPM-GPG-KEY-kiln
 * .incoming/               files being written (temporary names), emptied by the next publish
 * .kiln-layout, .lock, .lock-holder
 * </pre>
 * A publish writes the new packages into {@code Packages/} and {@code SRPMS/} (each to a temporary
 * name, fsynced, renamed), then a new {@code .repodata/<n+1>/} (the earlier documents with the new
 * packages appended member by member, see {@link Repodata}), fsyncs it and renames a new symlink over
 * {@code repodata}. A release is immutable and never removed, so a package that is there before the
 * swap harms no reader: dnf over file:// or any web server over the folder sees the old or the new
 * metadata, never a mix, and every package either names. A failed or killed publish leaves the live
 * metadata as it was; what it wrote is not listed and goes (or is reused) with the next publish.
 *
 * <p>Readers that outlive a publish need nothing held: package paths stay valid for good, and the
 * new metadata folder keeps the documents named by the {@code repomd.xml} it replaces and those
 * still within their grace period ({@link RetainedMetadata}, {@link #DEFAULT_METADATA_GRACE} unless
 * given), so an HTTP client that fetched {@code repomd.xml} just before a swap still gets every file
 * it names.
 *
 * <p>A repository of the first layout ({@code location} a symlink to {@code <location>.snapshots/<n>/},
 * a whole snapshot per publish) is converted by its next publish: a new snapshot folder is made once in
 * the second layout (packages hard-linked, the metadata folder taken over as {@code .repodata/1/}) and
 * the link swapped to it, so readers of either layout keep working throughout and after.
 */
public final class DirectoryRepository implements AutoCloseable {

    /** The public key's file name at the repository root, what {@code gpgkey=} points to. */
    public static final String PUBLIC_KEY_FILE = "RPM-GPG-KEY-kiln";
    /** The folders every kind of target serves, as dnf and the metadata's hrefs name them. */
    public static final String PACKAGES = "Packages";
    public static final String SOURCES = "SRPMS";
    public static final String REPODATA = "repodata";
    /** The metadata folders, one per publish, {@value #REPODATA} linking to the live one. */
    static final String METADATA_FOLDERS = ".repodata";
    /** Where a publish writes files under temporary names before renaming them into place. */
    static final String INCOMING = ".incoming";
    /** Marks a folder as a repository of the second layout (a plain folder without it is not Kiln's). */
    static final String LAYOUT_FILE = ".kiln-layout";
    /** The files a prune took out of the metadata, each with when: deleted once the metadata grace has passed. */
    static final String REMOVED_FILE = ".kiln-removed";
    static final String LOCK_FILE = ".lock";
    static final String LOCK_HOLDER = ".lock-holder";
    private static final String RETIRED_PREFIX = ".retired-";
    private static final String MIGRATING_PREFIX = ".migrating-";
    /** Appended to an RPM's file name to name its provenance document. */
    public static final String PROVENANCE_SUFFIX = ".provenance.json";
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCAL_LOCKS = new ConcurrentHashMap<>();
    private static final Pattern NUMBER = Pattern.compile("[0-9]+");
    /** How long the files of a replaced {@code repomd.xml} stay servable unless a repository is given another grace. */
    public static final Duration DEFAULT_METADATA_GRACE = Duration.ofHours(1);

    private final Path location;
    /** The first layout's snapshots folder, beside {@code location}; a converted repository's link still points into it. */
    private final Path snapshots;
    private final Duration metadataGrace;
    private final Duration lockTimeout;
    /** A metadata folder never changes once live, so what was read for one stays true while it is live. */
    private volatile PublishedBuilds buildKeys;

    public DirectoryRepository(Path location) {
        this(location, DEFAULT_METADATA_GRACE);
    }

    /**
     * @param metadataGrace how long the metadata files of a replaced {@code repomd.xml} stay in
     *     {@code repodata/}, counted from the publish that replaced it (the previous one's always stay)
     */
    public DirectoryRepository(Path location, Duration metadataGrace) {
        this(location, metadataGrace, dev.kiln.config.TargetConfig.DEFAULT_LOCK_TIMEOUT);
    }

    /** @param lockTimeout how long a publish waits for another one, in this process or another, before it gives up */
    public DirectoryRepository(Path location, Duration metadataGrace, Duration lockTimeout) {
        if (metadataGrace.isNegative()) {
            throw new IllegalArgumentException("metadata grace " + metadataGrace + " is negative");
        }
        this.location = location.toAbsolutePath().normalize();
        this.snapshots = this.location.resolveSibling(this.location.getFileName() + ".snapshots");
        this.metadataGrace = metadataGrace;
        this.lockTimeout = lockTimeout;
    }

    public Path location() {
        return location;
    }

    /**
     * Publishes {@code rpms}: binary RPMs into {@code Packages/} (indexed), source RPMs into
     * {@code SRPMS/} (kept, not indexed). Publishing a file that is already there with the same bytes
     * is a no-op for that file; with other bytes it is refused, since a release must never change.
     *
     * @param key signs {@code repodata/repomd.xml}; its public key is written as {@value #PUBLIC_KEY_FILE}
     * @throws KilnException BAD_INPUT for an unreadable or unsigned RPM, a changed release, or an
     *     unwritable folder; nothing is changed then
     */
    public Publication publish(List<Path> rpms, SigningKey key) {
        return publish(rpms, Map.of(), key);
    }

    /**
     * Publishes {@code rpms} as {@link #publish(List, SigningKey)} does, each with its provenance
     * document stored beside it as {@code <rpm file name>}{@value #PROVENANCE_SUFFIX}, made live by
     * the same metadata swap. Provenance files follow the RPMs' rule: the same bytes again are a no-op,
     * other bytes are refused (an RPM published earlier without one may get one now). Repodata never lists them.
     *
     * @param provenanceByRpm the provenance JSON of some or all of {@code rpms}, keyed by the same paths
     * @throws KilnException BAD_INPUT also for provenance of a file not in {@code rpms} or that is not JSON
     */
    public Publication publish(List<Path> rpms, Map<Path, byte[]> provenanceByRpm, SigningKey key) {
        Map<Path, byte[]> provenance = new HashMap<>();
        provenanceByRpm.forEach((rpm, json) -> provenance.put(rpm.toAbsolutePath().normalize(), json));
        Set<Path> listed = new HashSet<>();
        rpms.forEach(rpm -> listed.add(rpm.toAbsolutePath().normalize()));
        for (Map.Entry<Path, byte[]> e : provenance.entrySet()) {
            if (!listed.contains(e.getKey())) {
                throw KilnException.badInput("provenance given for " + e.getKey() + ", which is not among the RPMs to publish");
            }
            PublishedBuilds.readBuildKey(e.getValue(), e.getKey().getFileName() + PROVENANCE_SUFFIX);
        }
        List<RpmFile> incoming = PublishTarget.readSigned(rpms);
        return underLock(root -> publishLocked(root, incoming, provenance, key));
    }

    /** What a publish or a prune does holding the repository's lock, on a second-layout repository. */
    private interface LockedWork<T> {
        T run(Path root) throws IOException;
    }

    /**
     * Runs {@code work} holding the repository's lock (converting a first-layout repository first),
     * waiting up to the lock timeout.
     */
    private <T> T underLock(LockedWork<T> work) {
        prepareFolders();
        // FileChannel.lock excludes other processes; within one JVM it would throw instead of wait, hence the in-process lock too.
        ReentrantLock local = LOCAL_LOCKS.computeIfAbsent(location, p -> new ReentrantLock());
        long deadline = System.nanoTime() + lockTimeout.toNanos();
        try {
            if (!local.tryLock(lockTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw lockTimedOut(layout() instanceof Layout.First ? snapshots : location);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw KilnException.interrupted();
        }
        try {
            while (true) {
                Layout layout = layout();
                // A first-layout repository is locked where its own publishers lock it, so an older Kiln is excluded while it is converted.
                Path lockFolder = switch (layout) {
                    case Layout.First first -> snapshots;
                    case Layout.Second second -> second.root();
                    case Layout.Empty empty -> throw new IllegalStateException("repository " + location + " vanished while publishing");
                };
                try (FileChannel lockChannel = FileChannel.open(lockFolder.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE);
                        FileLock lock = lockWithin(lockChannel, lockFolder, deadline)) {
                    // who holds it, for the message of whoever waits (the lock itself is the OS's, dropped when this process dies)
                    Path holder = lockFolder.resolve(LOCK_HOLDER);
                    // One name, written only by whoever holds the lock: what a holder killed before its rename left is
                    // overwritten and renamed by the next one, so no temporary file accumulates.
                    Path temp = lockFolder.resolve(LOCK_HOLDER + ".part");
                    Files.writeString(temp, "host " + hostName() + ", pid " + ProcessHandle.current().pid() + ", since " + Instant.now());
                    Files.move(temp, holder, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    try {
                        if (!layout().equals(layout)) {
                            continue; // converted by the publisher we waited for: lock what it is now
                        }
                        if (layout instanceof Layout.First first) {
                            convert(first.snapshot());
                            continue; // publish under the converted repository's own lock
                        }
                        return work.run(((Layout.Second) layout).root());
                    } finally {
                        Files.deleteIfExists(holder);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("publishing to " + location + " failed", e);
        } finally {
            local.unlock();
        }
    }

    private FileLock lockWithin(FileChannel channel, Path lockFolder, long deadline) throws IOException {
        long wait = 20;
        while (true) {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return lock;
            }
            if (System.nanoTime() > deadline) {
                throw lockTimedOut(lockFolder);
            }
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw KilnException.interrupted();
            }
            wait = Math.min(500, wait * 2);
        }
    }

    private KilnException lockTimedOut(Path lockFolder) {
        String holder;
        try {
            holder = Files.readString(lockFolder.resolve(LOCK_HOLDER)).strip();
        } catch (IOException e) {
            holder = "holder unknown";
        }
        return KilnException.environment("repository " + location + " is being published by another Kiln (" + holder
                + "); waited " + lockTimeout.toSeconds() + " s: try again later (the lock goes when that process ends, "
                + "however it ends)");
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "unknown-host";
        }
    }

    /** What {@code location} holds. */
    sealed interface Layout {
        /** Nothing published: no folder, or an empty one. */
        record Empty() implements Layout {
        }

        /** The first layout: {@code location} links to this snapshot, a whole repository. */
        record First(Path snapshot) implements Layout {
        }

        /** The second layout in {@code root} (a real path): {@code location} itself, or a converted repository's link target. */
        record Second(Path root) implements Layout {
        }
    }

    /**
     * The live state a reader reads: the folder the packages are in and the live metadata folder,
     * both real paths. Both stay valid for readers after later publishes (packages for good, the
     * metadata folder at least through the next publish and while its documents are within the grace).
     */
    record Live(Path root, Path metadata) {
    }

    private Layout layout() {
        if (Files.isSymbolicLink(location)) {
            Path real;
            try {
                real = location.toRealPath();
            } catch (IOException e) {
                throw KilnException.badInput("repository link " + location + " points nowhere (" + e.getMessage() + "): remove it and publish again");
            }
            // Only a link to one of its own snapshots is this repository: a link to /etc or a home folder would be served and written.
            if (!isOwnSnapshot(real)) {
                throw KilnException.badInput("repository link " + location + " does not point to one of its snapshots in "
                        + snapshots + ": it is not a Kiln repository; remove the link or choose another repository path");
            }
            return Files.isRegularFile(real.resolve(LAYOUT_FILE), LinkOption.NOFOLLOW_LINKS) ? new Layout.Second(real) : new Layout.First(real);
        }
        if (!Files.exists(location, LinkOption.NOFOLLOW_LINKS)) {
            return new Layout.Empty();
        }
        try {
            if (Files.isDirectory(location, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.isRegularFile(location.resolve(LAYOUT_FILE), LinkOption.NOFOLLOW_LINKS)) {
                    return new Layout.Second(location.toRealPath());
                }
                try (Stream<Path> entries = Files.list(location)) {
                    if (entries.findAny().isEmpty()) {
                        return new Layout.Empty();
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read repository folder " + location, e);
        }
        throw KilnException.badInput("repository folder " + location
                + " is a plain folder, not a Kiln repository (it has no " + LAYOUT_FILE + "): choose an empty path or remove it");
    }

    /** The live package folder and metadata folder, or null before the first publish. */
    Live live() {
        return switch (layout()) {
            case Layout.Empty empty -> null;
            case Layout.First first -> new Live(first.snapshot(), first.snapshot().resolve(REPODATA));
            case Layout.Second second -> {
                Path link = second.root().resolve(REPODATA);
                if (!Files.isSymbolicLink(link)) {
                    yield null; // a first publish that did not get as far as its swap
                }
                try {
                    Path target = Files.readSymbolicLink(link);
                    if (target.getNameCount() != 2 || !target.getName(0).toString().equals(METADATA_FOLDERS)
                            || !NUMBER.matcher(target.getName(1).toString()).matches()) {
                        throw KilnException.badInput("repository " + location + ": " + link + " links to " + target + ", not to one of its "
                                + METADATA_FOLDERS + " folders: it is not a Kiln repository");
                    }
                    yield new Live(second.root(), second.root().resolve(target).toRealPath());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read the live metadata of " + location, e);
                }
            }
        };
    }

    /**
     * Removes old releases as {@link PrunePlan#keepNewest} chooses, atomically like a publish: a new
     * metadata folder without their entries (every other package's gzip member copied byte for byte)
     * behind the one link swap. Their files stay for the metadata grace, so a client that fetched the
     * old {@code repomd.xml} a moment earlier still downloads them; they are recorded in
     * {@value #REMOVED_FILE} and deleted by the first publish or prune after the grace, unless
     * published again meanwhile.
     */
    public Pruning prune(int keep, Pruning.Mode mode, SigningKey key) {
        PrunePlan.checkKeep(keep);
        if (live() == null) {
            return new Pruning(location.toString(), keep, List.of(), List.of(), List.of(), false);
        }
        if (mode == Pruning.Mode.DRY_RUN) {
            Live live = live();
            PrunePlan plan = planPrune(live, keep);
            return Pruning.of(location.toString(), keep, plan, present(live.root(), plan), false);
        }
        return underLock(root -> pruneLocked(root, keep, key));
    }

    private Pruning pruneLocked(Path root, int keep, SigningKey key) throws IOException {
        clearLeftovers(root);
        Live live = live();
        if (live == null) {
            return new Pruning(location.toString(), keep, List.of(), List.of(), List.of(), false);
        }
        PrunePlan plan = planPrune(live, keep);
        List<String> present = present(root, plan);
        if (plan.empty()) {
            deleteRemovedPastGrace(root);
            return Pruning.of(location.toString(), keep, plan, present, false);
        }
        Path folders = Files.createDirectories(root.resolve(METADATA_FOLDERS));
        // recorded before the swap, so a prune killed after it leaks nothing; one killed before it leaves entries that
        // the deletion skips while the live metadata still lists their release
        recordRemoved(root, present);
        Path folder = swapInMetadata(root, folders, live, publicKey(key), temp -> {
            byte[] earlier = Files.readAllBytes(live.metadata().resolve(Repodata.REPOMD));
            Repodata.Written written = Repodata.write(live.metadata(), earlier, plan.removedPkgids(), List.of(), temp, Instant.now());
            writeDurably(temp.resolve(Repodata.REPOMD), written.repomd());
            writeDurably(temp.resolve(Repodata.REPOMD_SIGNATURE), key.detachedSignature(written.repomd()));
        });
        pruneMetadata(folders, folder, live);
        deleteRemovedPastGrace(root);
        return Pruning.of(location.toString(), keep, plan, present, true);
    }

    private static PrunePlan planPrune(Live live, int keep) {
        try {
            byte[] repomd = Files.readAllBytes(live.metadata().resolve(Repodata.REPOMD));
            String href = dev.kiln.repo.repodata.ServedPrimary.primaryHref(repomd)
                    .orElseThrow(() -> new IOException(live.metadata() + "/" + Repodata.REPOMD + " names no primary metadata"));
            // hrefs are relative to the repository root: repodata/<file> is the live metadata folder's file
            try (var in = Files.newInputStream(live.metadata().resolve(Path.of(href).getFileName()))) {
                return PrunePlan.keepNewest(dev.kiln.repo.repodata.ServedPrimary.read(in), keep);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Publication publishLocked(Path root, List<RpmFile> incoming, Map<Path, byte[]> provenance, SigningKey key) throws IOException {
        clearLeftovers(root);
        Live live = live();
        Path packages = Files.createDirectories(root.resolve(PACKAGES));
        Path sources = Files.createDirectories(root.resolve(SOURCES));
        Path staging = Files.createDirectories(root.resolve(INCOMING));
        Path folders = Files.createDirectories(root.resolve(METADATA_FOLDERS));
        Set<String> wanted = new HashSet<>();
        incoming.stream().filter(r -> !r.source()).forEach(r -> wanted.add(href(r.canonicalFileName())));
        Set<String> indexed = live == null ? Set.of() : indexedAmong(live, wanted);

        // Every check before anything is written: a refused publish changes nothing.
        List<String> addedNames = new ArrayList<>();
        List<String> unchangedNames = new ArrayList<>();
        Map<Path, Path> rpmsToWrite = new java.util.LinkedHashMap<>();
        Set<Path> targetsToWrite = new HashSet<>(); // rpmsToWrite's values, looked up per RPM: a scan would be quadratic in a large publish
        Map<Path, byte[]> documentsToWrite = new java.util.LinkedHashMap<>();
        List<Path> toIndex = new ArrayList<>();
        for (RpmFile rpm : incoming) {
            // The canonical name makes "same file name" mean "same NEVRA", so a release cannot sneak in twice under two names.
            Path target = (rpm.source() ? sources : packages).resolve(rpm.canonicalFileName());
            // A binary counts as published once the live metadata lists it; a file there that it does not list was left by a
            // killed publish, was never served, and is written again.
            boolean published = rpm.source() ? Files.exists(target) : indexed.contains(href(rpm.canonicalFileName()));
            if (published) {
                if (Files.mismatch(target, rpm.path()) != -1) {
                    throw changedRelease(target);
                }
                unchangedNames.add(rpm.canonicalFileName());
            } else {
                if (targetsToWrite.add(target)) {
                    rpmsToWrite.put(rpm.path(), target);
                    if (!rpm.source()) {
                        toIndex.add(rpm.path());
                    }
                }
                addedNames.add(rpm.canonicalFileName());
            }
            byte[] json = provenance.get(rpm.path().toAbsolutePath().normalize());
            if (json != null) {
                Path doc = target.resolveSibling(rpm.canonicalFileName() + PROVENANCE_SUFFIX);
                String name = doc.getFileName().toString();
                if (Files.exists(doc) && java.util.Arrays.equals(Files.readAllBytes(doc), json)) {
                    unchangedNames.add(name);
                } else if (Files.exists(doc) && published) {
                    throw KilnException.badInput(name + " is already published with different content: "
                            + "provenance, like the RPM it describes, must never be overwritten");
                } else {
                    documentsToWrite.put(doc, json);
                    addedNames.add(name);
                }
            }
        }
        if (live != null && rpmsToWrite.isEmpty() && documentsToWrite.isEmpty()) {
            // nothing new: the live repomd.xml stays byte for byte, so no client downloads metadata again
            return new Publication(location.toString(), List.of(), names(incoming, provenance), false);
        }

        // Indexed from the files given, before anything is written: a damaged package is refused with nothing changed.
        List<PackageMetadata> indexedNow = Repodata.read(toIndex, rpm -> href(rpmsToWrite.get(rpm)));
        for (Map.Entry<Path, Path> e : rpmsToWrite.entrySet()) {
            // the file's time too, which the metadata records
            placeDurably(staging, e.getValue(), out -> Files.copy(e.getKey(), out, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.COPY_ATTRIBUTES));
        }
        for (Map.Entry<Path, byte[]> e : documentsToWrite.entrySet()) {
            placeDurably(staging, e.getKey(), out -> Files.write(out, e.getValue()));
        }
        syncDirectory(packages);
        syncDirectory(sources);

        Path folder = swapInMetadata(root, folders, live, publicKey(key), temp -> writeRepodata(live, root, indexedNow, temp, key));
        spareRemoved(root, rpmsToWrite.values(), documentsToWrite.keySet());
        pruneMetadata(folders, folder.toRealPath(), live);
        if (Integer.parseInt(folder.getFileName().toString()) >= 3) {
            pruneSnapshots(root);
        }
        deleteRemovedPastGrace(root);
        return new Publication(location.toString(), addedNames, unchangedNames, true);
    }

    private static byte[] publicKey(SigningKey key) {
        return key.armoredPublicKey().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Runs {@code work} for {@code kiln repo sync} holding the lock a publish takes: packages placed
     * as a publish places them, and the source's signed metadata made live by the same swap, with the
     * replaced documents kept for the grace. What a killed sync left goes with the next publish.
     */
    public <T> T replicate(java.util.function.Function<Replica.Session, T> work) {
        return underLock(root -> {
            clearLeftovers(root);
            return work.apply(new ReplicaSession(root, live()));
        });
    }

    /** One sync's visit, under the lock. */
    private final class ReplicaSession implements Replica.Session {
        private final Path root;
        private final Live live;

        ReplicaSession(Path root, Live live) {
            this.root = root;
            this.live = live;
        }

        @Override
        public Optional<byte[]> repomd() {
            return readLive(Repodata.REPOMD);
        }

        @Override
        public Optional<byte[]> signature() {
            return readLive(Repodata.REPOMD_SIGNATURE);
        }

        private Optional<byte[]> readLive(String name) {
            try {
                Path file = live == null ? null : live.metadata().resolve(name);
                return file != null && Files.isRegularFile(file) ? Optional.of(Files.readAllBytes(file)) : Optional.empty();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Map<String, String> listed() {
            Map<String, String> listed = new HashMap<>();
            if (live != null) {
                DirectoryRepository.listed(live).ifPresent(all -> all.forEach(l -> listed.put(l.href(), l.pkgid())));
            }
            return listed;
        }

        @Override
        public Set<String> files() {
            Set<String> files = new HashSet<>();
            for (String folder : List.of(PACKAGES, SOURCES)) {
                names(root.resolve(folder)).forEach(n -> files.add(folder + "/" + n));
            }
            return files;
        }

        @Override
        public Set<String> metadataFiles() {
            return live == null ? Set.of() : new HashSet<>(names(live.metadata()));
        }

        @Override
        public void placing(List<String> paths) {
            // nothing to journal: files are written in .incoming, which the next publish empties
        }

        @Override
        public void place(String path, Path file, Bandwidth bandwidth) {
            Path target = root.resolve(path).normalize();
            if (!target.getParent().equals(root.resolve(PACKAGES)) && !target.getParent().equals(root.resolve(SOURCES))) {
                throw new IllegalArgumentException(path + " is not a package path");
            }
            try {
                Files.createDirectories(target.getParent());
                Path staging = Files.createDirectories(root.resolve(INCOMING));
                placeDurably(staging, target, out -> {
                    try (var in = bandwidth.throttle(Files.newInputStream(file))) {
                        Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException("cannot place " + path + " in " + location, e);
            }
        }

        @Override
        public void swapInMetadata(byte[] repomd, byte[] signature, byte[] publicKey, Map<String, Path> documents, Bandwidth bandwidth) {
            try {
                syncDirectory(root.resolve(PACKAGES));
                syncDirectory(root.resolve(SOURCES));
                Path folders = Files.createDirectories(root.resolve(METADATA_FOLDERS));
                Path folder = DirectoryRepository.this.swapInMetadata(root, folders, live, publicKey, temp -> {
                    for (Map.Entry<String, Path> doc : documents.entrySet()) {
                        Path there = live == null ? null : live.metadata().resolve(doc.getKey());
                        if (there != null && Files.isRegularFile(there, LinkOption.NOFOLLOW_LINKS)) {
                            Files.createLink(temp.resolve(doc.getKey()), there); // named by its checksum: the same bytes
                        } else {
                            try (var in = bandwidth.throttle(Files.newInputStream(doc.getValue()))) {
                                Files.copy(in, temp.resolve(doc.getKey()));
                            }
                            try (FileChannel channel = FileChannel.open(temp.resolve(doc.getKey()), StandardOpenOption.WRITE)) {
                                channel.force(true);
                            }
                        }
                    }
                    writeDurably(temp.resolve(Repodata.REPOMD_SIGNATURE), signature);
                    writeDurably(temp.resolve(Repodata.REPOMD), repomd);
                });
                pruneMetadata(folders, folder, live);
                deleteRemovedPastGrace(root);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot make the new metadata of " + location + " live", e);
            }
        }
    }

    /** The names of the plain files in {@code folder}, none of the temporary ones. */
    private static List<String> names(Path folder) {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the documents of a new metadata folder into {@code temp}, signed. */
    private interface MetadataWriter {
        void write(Path temp) throws IOException;
    }

    /**
     * Writes metadata folder {@code n+1} (the documents, what the replaced repomd names within its
     * grace, the public key), then swaps the {@code repodata} link onto it: the one step clients see.
     *
     * @return the new folder
     */
    private Path swapInMetadata(Path root, Path folders, Live live, byte[] publicKey, MetadataWriter documents) throws IOException {
        int next = numbers(folders).orElse(0) + 1;
        Path temp = folders.resolve(next + ".tmp");
        Path folder = folders.resolve(Integer.toString(next));
        boolean swapped = false;
        try {
            Files.createDirectory(temp);
            documents.write(temp);
            retainMetadata(live, temp);
            writeDurably(temp.resolve(PUBLIC_KEY_FILE), publicKey);
            syncDirectory(temp);
            Files.move(temp, folder, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(folders);
            swapLink(root.resolve(REPODATA), Path.of(METADATA_FOLDERS, Integer.toString(next)));
            swapped = true;
        } finally {
            if (!swapped) {
                deleteTree(temp);
                deleteTree(folder);
            }
        }
        Path keyLink = root.resolve(PUBLIC_KEY_FILE);
        Path keyTarget = Path.of(REPODATA, PUBLIC_KEY_FILE);
        // A link into the metadata folder, so the key changes with the metadata it signs, in the same swap.
        if (!Files.isSymbolicLink(keyLink) || !Files.readSymbolicLink(keyLink).equals(keyTarget)) {
            swapLink(keyLink, keyTarget);
        }
        return folder.toRealPath();
    }

    /** Files of {@code plan} that the repository holds, relative to its root. */
    private static List<String> present(Path root, PrunePlan plan) {
        return plan.files().stream().filter(f -> Files.isRegularFile(root.resolve(f), LinkOption.NOFOLLOW_LINKS)).toList();
    }

    /** Records the files a prune took out of the metadata, with the time, for deletion after the grace. */
    private static void recordRemoved(Path root, List<String> files) throws IOException {
        writeRemoved(root, readRemoved(root).with(files, Instant.now()));
    }

    /** A release published again after a prune is live again: its files are no longer to be deleted. */
    private static void spareRemoved(Path root, java.util.Collection<Path> rpms, java.util.Collection<Path> documents) throws IOException {
        DeferredDeletions removed = readRemoved(root);
        if (removed.since().isEmpty()) {
            return;
        }
        List<String> written = Stream.concat(rpms.stream(), documents.stream()).map(p -> root.relativize(p).toString()).toList();
        DeferredDeletions left = removed.without(written);
        if (!left.equals(removed)) {
            writeRemoved(root, left);
        }
    }

    /** Deletes the pruned files whose grace has passed (a client can no longer hold metadata naming them). */
    private void deleteRemovedPastGrace(Path root) throws IOException {
        DeferredDeletions removed = readRemoved(root);
        if (removed.since().isEmpty()) {
            return;
        }
        Live live = live();
        Set<String> binaries = new HashSet<>();
        removed.since().keySet().forEach(f -> binaries.add(withoutProvenanceSuffix(f)));
        // its prune never went live: the release stays, and its entry goes
        Set<String> stillListed = live == null ? Set.of() : indexedAmong(live, binaries);
        List<String> spared = removed.since().keySet().stream().filter(f -> stillListed.contains(withoutProvenanceSuffix(f))).toList();
        List<String> due = removed.due(Instant.now(), metadataGrace).stream().filter(f -> !spared.contains(f)).toList();
        for (String file : due) {
            Files.deleteIfExists(root.resolve(file));
        }
        if (!spared.isEmpty() || !due.isEmpty()) {
            writeRemoved(root, removed.without(spared).without(due));
        }
    }

    private static String withoutProvenanceSuffix(String file) {
        return file.endsWith(PROVENANCE_SUFFIX) ? file.substring(0, file.length() - PROVENANCE_SUFFIX.length()) : file;
    }

    private static DeferredDeletions readRemoved(Path root) throws IOException {
        Path file = root.resolve(REMOVED_FILE);
        return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
                ? DeferredDeletions.parse(Files.readString(file, StandardCharsets.UTF_8)) : DeferredDeletions.NONE;
    }

    private static void writeRemoved(Path root, DeferredDeletions removed) throws IOException {
        Path temp = root.resolve(REMOVED_FILE + ".tmp");
        writeDurably(temp, removed.render().getBytes(StandardCharsets.UTF_8));
        Files.move(temp, root.resolve(REMOVED_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Where a target serves {@code rpm}: {@code Packages/<file>}, or {@code SRPMS/<file>} for a source RPM. */
    public static String servedPath(RpmFile rpm) {
        return (rpm.source() ? SOURCES : PACKAGES) + "/" + rpm.canonicalFileName();
    }

    private static String href(String rpmFileName) {
        return PACKAGES + "/" + rpmFileName;
    }

    private static String href(Path rpm) {
        return href(rpm.getFileName().toString());
    }

    private static List<String> names(List<RpmFile> incoming, Map<Path, byte[]> provenance) {
        List<String> names = new ArrayList<>();
        for (RpmFile rpm : incoming) {
            names.add(rpm.canonicalFileName());
            if (provenance.containsKey(rpm.path().toAbsolutePath().normalize())) {
                names.add(rpm.canonicalFileName() + PROVENANCE_SUFFIX);
            }
        }
        return names;
    }

    private static KilnException changedRelease(Path published) {
        return KilnException.badInput("RPM " + published.getFileName() + " is already published with different content: "
                + "a release must never be overwritten; bump the Release and rebuild");
    }

    /**
     * Which of {@code wanted} (hrefs) the live metadata lists: a stream over Kiln's package list, so
     * memory does not grow with the repository. Where another tool wrote the metadata, a file that is
     * there counts as listed.
     */
    private static Set<String> indexedAmong(Live live, Set<String> wanted) throws IOException {
        Set<String> found = new HashSet<>();
        if (wanted.isEmpty()) {
            return found;
        }
        Path repomd = live.metadata().resolve(Repodata.REPOMD);
        byte[] bytes = Files.isRegularFile(repomd) ? Files.readAllBytes(repomd) : null;
        if (bytes == null || Repodata.entries(bytes).isEmpty()) {
            wanted.stream().filter(h -> Files.exists(live.root().resolve(h))).forEach(found::add);
            return found;
        }
        Repodata.listed(live.metadata(), bytes, l -> {
            if (wanted.contains(l.href())) {
                found.add(l.href());
            }
        });
        return found;
    }

    /** A step that writes a file's content to the path it is given. */
    @FunctionalInterface
    private interface Content {
        void writeTo(Path file) throws IOException;
    }

    /**
     * Writes {@code target} under a temporary name in {@code staging}, fsyncs it and renames it into
     * place, so no reader ever sees part of a file.
     */
    private static void placeDurably(Path staging, Path target, Content content) throws IOException {
        Path temp = staging.resolve(target.getFileName() + ".part");
        Files.deleteIfExists(temp);
        content.writeTo(temp);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Removes what a killed publish left: files being written and a metadata folder that was not finished. */
    private static void clearLeftovers(Path root) throws IOException {
        for (Path folder : List.of(root.resolve(INCOMING), root.resolve(METADATA_FOLDERS))) {
            if (!Files.isDirectory(folder)) {
                continue;
            }
            try (Stream<Path> entries = Files.list(folder)) {
                for (Path p : (Iterable<Path>) entries::iterator) {
                    String name = p.getFileName().toString();
                    if (folder.endsWith(INCOMING) || name.endsWith(".tmp") || name.startsWith(RETIRED_PREFIX)) {
                        deleteTree(p);
                    }
                }
            }
        }
        for (String link : List.of(REPODATA, PUBLIC_KEY_FILE)) {
            Files.deleteIfExists(root.resolve("." + link + ".next"));
        }
        // the record of pruned files, killed between writing its new version and renaming it into place
        Files.deleteIfExists(root.resolve(REMOVED_FILE + ".tmp"));
    }

    /**
     * Writes the new metadata folder's documents: the live documents plus the packages just
     * {@code added}, copied member by member ({@link Repodata}), so the cost is that of the new
     * packages and not of the repository. A repository whose metadata another tool (or an earlier
     * Kiln) wrote is indexed in full once.
     */
    private static void writeRepodata(Live live, Path root, List<PackageMetadata> added, Path folder, SigningKey key) throws IOException {
        Path earlierRepomd = live == null ? null : live.metadata().resolve(Repodata.REPOMD);
        byte[] earlier = earlierRepomd != null && Files.isRegularFile(earlierRepomd) ? Files.readAllBytes(earlierRepomd) : null;
        Repodata.Written written;
        if (earlier != null && !Repodata.entries(earlier).isEmpty()) {
            written = Repodata.write(live.metadata(), earlier, added, folder, Instant.now());
        } else if (earlier != null) {
            List<Path> packages;
            try (Stream<Path> files = Files.list(root.resolve(PACKAGES))) {
                packages = files.filter(p -> !p.getFileName().toString().startsWith(".") && p.getFileName().toString().endsWith(".rpm"))
                        .sorted().toList();
            }
            written = Repodata.write(null, null, Repodata.read(packages, DirectoryRepository::href), folder, Instant.now());
        } else {
            written = Repodata.write(null, null, added, folder, Instant.now());
        }
        writeDurably(folder.resolve(Repodata.REPOMD), written.repomd());
        writeDurably(folder.resolve(Repodata.REPOMD_SIGNATURE), key.detachedSignature(written.repomd()));
    }

    /**
     * Hard-links into the new metadata folder the files the replaced {@code repomd.xml} names and
     * those retained earlier still within their grace, and records when each was replaced.
     */
    private void retainMetadata(Live live, Path folder) throws IOException {
        RetainedMetadata retained = RetainedMetadata.NONE;
        if (live != null) {
            Path replaced = live.metadata().resolve(Repodata.REPOMD);
            List<String> named = Files.isRegularFile(replaced) ? RetainedMetadata.locations(Files.readAllBytes(replaced)) : List.of();
            Path record = live.metadata().resolve(RetainedMetadata.FILE);
            RetainedMetadata earlier = Files.isRegularFile(record)
                    ? RetainedMetadata.parse(Files.readString(record, StandardCharsets.UTF_8)) : RetainedMetadata.NONE;
            retained = earlier.next(named, Instant.now(), metadataGrace);
        }
        Set<String> skipped = new HashSet<>();
        for (String path : retained.supersededAt().keySet()) {
            String name = Repodata.fileName(path);
            Path from = live.metadata().resolve(name);
            Path to = folder.resolve(name);
            // A name the new repomd.xml uses itself wins; a file already gone cannot be served anyway.
            if (Files.exists(to, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) {
                skipped.add(path);
            } else {
                Files.createLink(to, from);
            }
        }
        writeDurably(folder.resolve(RetainedMetadata.FILE), retained.without(skipped).render().getBytes(StandardCharsets.UTF_8));
    }

    /** Points {@code link} at {@code target} (relative) by renaming a new link over it: atomic for every reader. */
    private static void swapLink(Path link, Path target) throws IOException {
        Path temp = link.resolveSibling("." + link.getFileName() + ".next");
        Files.deleteIfExists(temp);
        Files.createSymbolicLink(temp, target);
        try {
            Files.move(temp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        syncDirectory(link.getParent());
    }

    /**
     * Removes the metadata folders no reader needs: every one but the live one, the one it replaced
     * and those whose documents are still within their grace (hard-linked into the live one, so
     * keeping them costs only their names). Runs under the publish lock, after the swap; what it
     * cannot remove goes next time.
     */
    private static void pruneMetadata(Path folders, Path live, Live previous) {
        Set<String> retained = new HashSet<>();
        try {
            Path record = live.resolve(RetainedMetadata.FILE);
            RetainedMetadata.parse(Files.readString(record, StandardCharsets.UTF_8)).supersededAt().keySet()
                    .forEach(p -> retained.add(Repodata.fileName(p)));
        } catch (IOException e) {
            return;
        }
        List<Path> dirs;
        try (Stream<Path> listing = Files.list(folders)) {
            dirs = listing.sorted().toList();
        } catch (IOException e) {
            return;
        }
        for (Path dir : dirs) {
            String name = dir.getFileName().toString();
            if (!NUMBER.matcher(name).matches() || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || dir.equals(live)
                    || (previous != null && dir.equals(previous.metadata()))) {
                continue;
            }
            try {
                Path repomd = dir.resolve(Repodata.REPOMD);
                List<String> named = Files.isRegularFile(repomd) ? RetainedMetadata.locations(Files.readAllBytes(repomd)) : List.of();
                if (named.stream().map(Repodata::fileName).anyMatch(retained::contains)) {
                    continue;
                }
                // Renamed first (atomic), so a half-deleted folder is never mistaken for a metadata folder.
                Path retired = dir.resolveSibling(RETIRED_PREFIX + name);
                Files.move(dir, retired, StandardCopyOption.ATOMIC_MOVE);
                deleteTree(retired);
            } catch (IOException | UncheckedIOException e) {
                // left for the next publish
            }
        }
    }

    /**
     * In a converted repository ({@code location} links to {@code root} in its snapshots folder),
     * removes the first layout's snapshots once a publish after the conversion has gone live, so the
     * one a first-layout reader may still be in outlives the conversion by at least one publish.
     */
    private void pruneSnapshots(Path root) {
        if (!Files.isSymbolicLink(location) || !root.getParent().getFileName().toString().equals(snapshots.getFileName().toString())) {
            return;
        }
        try (Stream<Path> listing = Files.list(root.getParent())) {
            for (Path dir : listing.sorted().toList()) {
                String name = dir.getFileName().toString();
                if (dir.equals(root) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                if (NUMBER.matcher(name).matches()) {
                    Path retired = dir.resolveSibling(RETIRED_PREFIX + name);
                    Files.move(dir, retired, StandardCopyOption.ATOMIC_MOVE);
                    deleteTree(retired);
                } else if (name.startsWith(RETIRED_PREFIX) || name.startsWith(MIGRATING_PREFIX)) {
                    deleteTree(dir);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // costs disk space only; the next publish tries again
        }
    }

    /**
     * Converts a first-layout repository whose link points to {@code snapshot}: makes a new snapshot
     * folder in the second layout (packages and provenance hard-linked once, the metadata folder
     * taken over whole as {@code .repodata/1/}, so {@code repomd.xml} stays byte for byte), then swaps
     * the link to it. Until the swap readers see the old snapshot; after it, readers of either layout
     * find what they look for ({@code Packages/}, {@code repodata/repomd.xml} through its link). A kill
     * at any point leaves the old snapshot live and a folder the next conversion removes.
     */
    private void convert(Path snapshot) throws IOException {
        try (Stream<Path> entries = Files.list(snapshots)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                if (p.getFileName().toString().startsWith(MIGRATING_PREFIX)) {
                    deleteTree(p);
                }
            }
        }
        int next = numbers(snapshots).orElse(0) + 1;
        Path work = snapshots.resolve(MIGRATING_PREFIX + next);
        Path metadata = Files.createDirectories(work.resolve(METADATA_FOLDERS).resolve("1"));
        linkAll(snapshot.resolve(PACKAGES), Files.createDirectories(work.resolve(PACKAGES)));
        linkAll(snapshot.resolve(SOURCES), Files.createDirectories(work.resolve(SOURCES)));
        linkAll(snapshot.resolve(REPODATA), metadata);
        Path record = snapshot.resolve(RetainedMetadata.FILE);
        if (Files.isRegularFile(record, LinkOption.NOFOLLOW_LINKS)) {
            Files.createLink(metadata.resolve(RetainedMetadata.FILE), record);
        }
        Path publicKey = snapshot.resolve(PUBLIC_KEY_FILE);
        if (Files.isRegularFile(publicKey, LinkOption.NOFOLLOW_LINKS) && !Files.exists(metadata.resolve(PUBLIC_KEY_FILE))) {
            Files.createLink(metadata.resolve(PUBLIC_KEY_FILE), publicKey);
        }
        if (Files.isRegularFile(metadata.resolve(Repodata.REPOMD))) {
            Files.createSymbolicLink(work.resolve(REPODATA), Path.of(METADATA_FOLDERS, "1"));
        }
        if (Files.exists(metadata.resolve(PUBLIC_KEY_FILE))) {
            Files.createSymbolicLink(work.resolve(PUBLIC_KEY_FILE), Path.of(REPODATA, PUBLIC_KEY_FILE));
        }
        writeDurably(work.resolve(LAYOUT_FILE), "2\n".getBytes(StandardCharsets.US_ASCII));
        for (Path dir : List.of(work.resolve(PACKAGES), work.resolve(SOURCES), metadata, work.resolve(METADATA_FOLDERS), work)) {
            syncDirectory(dir);
        }
        Path converted = snapshots.resolve(Integer.toString(next));
        Files.move(work, converted, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(snapshots);
        // A relative target keeps the repository valid when the parent folder is moved or mounted elsewhere.
        swapLink(location, location.getParent().relativize(converted));
    }

    private static void linkAll(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            return;
        }
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && !file.getFileName().toString().startsWith(".")) {
                    // Hard links cost no space and share the immutable bytes; a release is never rewritten in place.
                    Files.createLink(to.resolve(file.getFileName()), file);
                }
            }
        }
    }

    private static OptionalInt numbers(Path folder) throws IOException {
        try (Stream<Path> dirs = Files.list(folder)) {
            return dirs.map(p -> p.getFileName().toString())
                    .filter(n -> NUMBER.matcher(n).matches())
                    .mapToInt(Integer::parseInt)
                    .max();
        }
    }

    /** The published binary RPMs, sorted by NEVRA string, from the live package list alone (no RPM is read). */
    public List<Nevra> list() {
        Live live = live();
        if (live == null) {
            return List.of();
        }
        Optional<List<Repodata.Listed>> listed = listed(live);
        if (listed.isEmpty()) {
            return packages(live).stream().map(RpmFile::nevra).toList();
        }
        return listed.get().stream().map(l -> Nevra.parse(l.nevra())).sorted(Comparator.comparing(Nevra::toString)).toList();
    }

    /**
     * The published binary RPMs with their headers, sorted by NEVRA string: those the live metadata
     * lists, as paths under {@link #location()}. A published RPM is never removed or changed, so the
     * paths can be read long after any number of publishes.
     */
    public List<RpmFile> packages() {
        Live live = live();
        return live == null ? List.of() : packages(live);
    }

    private List<RpmFile> packages(Live live) {
        List<Path> paths;
        Optional<List<Repodata.Listed>> listed = listed(live);
        if (listed.isPresent()) {
            paths = listed.get().stream().map(l -> location.resolve(l.href()).normalize()).filter(p -> p.startsWith(location)).toList();
        } else {
            try (Stream<Path> files = Files.list(live.root().resolve(PACKAGES))) {
                paths = files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".") && n.endsWith(".rpm"))
                        .map(n -> location.resolve(PACKAGES).resolve(n)).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return readAll(paths).stream().sorted(Comparator.comparing(r -> r.nevra().toString())).toList();
    }

    /** Reads the headers of {@code paths} on all processors: a build lists every published package at its start. */
    private static List<RpmFile> readAll(List<Path> paths) {
        if (paths.size() < 8) {
            return paths.stream().map(RpmFile::read).toList();
        }
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors())) {
            List<java.util.concurrent.Future<RpmFile>> futures = paths.stream().map(p -> pool.submit(() -> RpmFile.read(p))).toList();
            List<RpmFile> read = new ArrayList<>(futures.size());
            for (java.util.concurrent.Future<RpmFile> f : futures) {
                try {
                    read.add(f.get());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw KilnException.interrupted();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                }
            }
            return read;
        }
    }

    /** Kiln's package list of the live metadata, or empty when another tool wrote it. */
    private static Optional<List<Repodata.Listed>> listed(Live live) {
        try {
            Path repomd = live.metadata().resolve(Repodata.REPOMD);
            if (!Files.isRegularFile(repomd)) {
                return Optional.of(List.of());
            }
            byte[] bytes = Files.readAllBytes(repomd);
            return Repodata.entries(bytes).isEmpty() ? Optional.empty() : Optional.of(Repodata.listed(live.metadata(), bytes));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the package list of " + live.metadata(), e);
        }
    }

    /** The folder the live packages are in (a real path), or null before the first publish. */
    public Path currentSnapshot() {
        Live live = live();
        return live == null ? null : live.root();
    }

    private boolean isOwnSnapshot(Path real) {
        try {
            return Files.isDirectory(snapshots) && real.getParent() != null && real.getParent().equals(snapshots.toRealPath())
                    && NUMBER.matcher(real.getFileName().toString()).matches();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A line a user can paste on a Fedora or EL host to install {@code packageName} from this
     * repository served at {@code baseUrl}, with package and metadata signatures checked.
     */
    public static String dnfInstallCommand(URI baseUrl, String packageName) {
        String url = baseUrl.toString().replaceAll("/+$", "");
        return "sudo dnf install -y"
                + " --repofrompath=" + shellQuote("kiln," + url + "/")
                + " --setopt=kiln.gpgcheck=1 --setopt=kiln.repo_gpgcheck=1"
                + " --setopt=" + shellQuote("kiln.gpgkey=" + url + "/" + PUBLIC_KEY_FILE)
                + " " + shellQuote(packageName);
    }

    static String shellQuote(String value) {
        return value.matches("[A-Za-z0-9_@%+=:,./-]+") ? value : "'" + value.replace("'", "'\\''") + "'";
    }

    /**
     * Checks, without creating anything, that a publish could write here: called before a build
     * starts, so a repository that cannot take the result fails the build before any work.
     */
    public void checkWritable() {
        Path folder = layout() instanceof Layout.First ? snapshots : location;
        Path existing = folder.toAbsolutePath();
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing) || !Files.isWritable(existing)) {
            throw KilnException.badInput("repository folder " + location + " is not writable: "
                    + (existing == null ? "no parent folder exists" : existing + (Files.isDirectory(existing)
                            ? " does not allow writing" : " is not a folder"))
                    + "; set repository in kiln.yaml or KILN_REPOSITORY to a writable path");
        }
    }

    /** Refuses a foreign folder or link, and makes an empty repository of the second layout. */
    private void prepareFolders() {
        Layout layout = layout();
        try {
            if (layout instanceof Layout.Empty) {
                // Made whole beside and renamed into place, so a concurrent publisher never sees a folder without its marker.
                Path parent = Files.createDirectories(location.getParent());
                Path fresh = parent.resolve("." + location.getFileName() + ".new-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
                Files.createDirectory(fresh);
                try {
                    writeDurably(fresh.resolve(LAYOUT_FILE), "2\n".getBytes(StandardCharsets.US_ASCII));
                    syncDirectory(fresh);
                    try {
                        Files.move(fresh, location, StandardCopyOption.ATOMIC_MOVE); // replaces an empty folder, not a full one
                        syncDirectory(parent);
                    } catch (FileSystemException e) {
                        if (!Files.isDirectory(location, LinkOption.NOFOLLOW_LINKS)) {
                            throw e;
                        }
                        // another publisher made it meanwhile
                    }
                } finally {
                    deleteTree(fresh);
                }
                layout = layout();
            }
            Path folder = layout instanceof Layout.First ? snapshots : location;
            if (!Files.isWritable(folder)) {
                throw new AccessDeniedException(folder.toString());
            }
        } catch (AccessDeniedException e) {
            throw KilnException.badInput("repository folder " + location + " is not writable: "
                    + "check the permissions of " + location.getParent());
        } catch (FileSystemException e) {
            throw KilnException.badInput("repository folder " + location + " is not writable: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Every build key recorded in the provenance of the published RPMs (binary and source), with
     * the RPMs whose provenance names it, as paths under {@link #location()}. Reads only the small
     * provenance files, once per live metadata folder; a binary the live metadata does not list
     * (left by a killed publish) does not count.
     */
    public Map<String, List<Path>> buildKeys() {
        Live live = live();
        if (live == null) {
            return Map.of();
        }
        PublishedBuilds cached = buildKeys;
        if (cached == null || !cached.snapshot().equals(live.metadata())) {
            PublishedBuilds all = PublishedBuilds.read(live.root(), List.of(PACKAGES, SOURCES));
            Optional<List<Repodata.Listed>> listed = listed(live);
            Set<String> indexed = new HashSet<>();
            listed.ifPresent(l -> l.forEach(p -> indexed.add(p.href())));
            Map<String, List<String>> byKey = new TreeMap<>();
            all.rpmsByKey().forEach((k, rpms) -> {
                List<String> kept = rpms.stream().filter(r -> listed.isEmpty() || !r.startsWith(PACKAGES + "/") || indexed.contains(r)).toList();
                boolean hadBinary = rpms.stream().anyMatch(r -> r.startsWith(PACKAGES + "/"));
                boolean hasBinary = kept.stream().anyMatch(r -> r.startsWith(PACKAGES + "/"));
                if (!kept.isEmpty() && (hasBinary || !hadBinary)) {
                    byKey.put(k, kept);
                }
            });
            cached = new PublishedBuilds(live.metadata(), Map.copyOf(byKey));
            buildKeys = cached;
        }
        Map<String, List<Path>> result = new TreeMap<>();
        cached.rpmsByKey().forEach((k, names) -> result.put(k, names.stream().map(location::resolve).toList()));
        return result;
    }

    /**
     * The published build whose provenance records {@code buildKey}, if any: what a planner needs to
     * decide a package is up to date. Reads the headers of that build's RPMs only.
     */
    public Optional<PublishedBuild> findByBuildKey(String buildKey) {
        List<Path> rpms = buildKeys().get(buildKey);
        if (rpms == null) {
            return Optional.empty();
        }
        List<Nevra> nevras = rpms.stream().map(RpmFile::read).map(RpmFile::nevra)
                .sorted(Comparator.comparing(Nevra::toString)).toList();
        return Optional.of(new PublishedBuild(buildKey, nevras, rpms));
    }

    /** The provenance document published beside {@code rpmFileName} ({@code hello-1.0-1.noarch.rpm}), if any. */
    public Optional<byte[]> provenance(String rpmFileName) {
        Live live = live();
        if (live == null) {
            return Optional.empty();
        }
        for (String folder : List.of(PACKAGES, SOURCES)) {
            Path file = live.root().resolve(folder).resolve(rpmFileName + PROVENANCE_SUFFIX);
            if (Files.isRegularFile(file)) {
                try {
                    return Optional.of(Files.readAllBytes(file));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return Optional.empty();
    }

    /** Nothing to release: what a reader listed stays readable for good, without any hold on the repository. */
    @Override
    public void close() {
    }

    private static void writeDurably(Path file, byte[] content) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems refuse fsync on a directory; the rename is still atomic there.
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root, e);
        }
    }
}
