package dev.kiln.repo;

import dev.kiln.KilnException;
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
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A YUM/DNF repository in a plain folder, published atomically.
 *
 * <p>{@code location} is a symlink to {@code <location>.snapshots/<n>/}. A publish builds snapshot
 * {@code n+1} beside the current one (existing RPMs hard-linked, new ones copied, repodata
 * regenerated over every binary RPM and signed), then renames a new symlink over {@code location}.
 * A reader (a web server, dnf over file://) therefore sees the old or the new repository, never a
 * mix, and a failed publish leaves the current snapshot untouched.
 *
 * <p>Readers that outlive a publish are kept whole in two ways:
 * <ul>
 *   <li>Snapshots a process has read from are leased ({@link SnapshotLease}: a shared file lock
 *       the OS drops when the process dies, even by {@code kill -9}). A publish prunes every
 *       snapshot but the new and the previous one that nobody leases, and leaves leased ones for a
 *       later publish. {@link #packages()} returns real paths inside a snapshot and keeps that
 *       snapshot leased until {@link #close()} or the end of the process, so a long build can read
 *       the RPMs it listed at its start however many publishes happen meanwhile, with no change to
 *       how it reads them. This was chosen over reading everything a run needs under the publish
 *       lock, which would serialize every build behind every publish (or copy every dependency up
 *       front); a lease costs one lock per snapshot and a little disk while the reader lives.
 *       Short reads ({@link #list()}, {@link #buildKeys()}, {@link #provenance(String)}) lease only
 *       while they read.</li>
 *   <li>A new snapshot's {@code repodata/} also keeps the metadata files named by the
 *       {@code repomd.xml} it replaces, and those still within their grace period
 *       ({@link RetainedMetadata}, {@link #DEFAULT_METADATA_GRACE} unless given), so an HTTP client
 *       that fetched {@code repomd.xml} just before a swap still gets every file it names from any
 *       web server over the folder. RPMs need nothing of the kind: a release leaves only by a prune, so until then
 *       each is hard-linked into every later snapshot.</li>
 * </ul>
 * A one-shot command may leave its leases to the end of its process; a long-lived one closes the
 * repository when the run that read it ends.
 */
public final class DirectoryRepository implements AutoCloseable {

    /** The public key's file name at the repository root, what {@code gpgkey=} points to. */
    public static final String PUBLIC_KEY_FILE = "RPM-GPG-KEY-kiln";
    static final String PACKAGES = "Packages";
    static final String SOURCES = "SRPMS";
    /** Appended to an RPM's file name to name its provenance document. */
    public static final String PROVENANCE_SUFFIX = ".provenance.json";
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCAL_LOCKS = new ConcurrentHashMap<>();
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("[0-9]+");
    /** How long the files of a replaced {@code repomd.xml} stay servable unless a repository is given another grace. */
    public static final Duration DEFAULT_METADATA_GRACE = Duration.ofHours(1);

    private final Path location;
    private final Path snapshots;
    private final Duration metadataGrace;
    private final Duration lockTimeout;
    /** Leases {@link #packages()} took, held until {@link #close()}: its callers read those paths later. */
    private final Map<Path, SnapshotLease> held = new HashMap<>();
    /** Snapshots never change once live, so what was read from one stays true while it is current. */
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
     * document stored beside it as {@code <rpm file name>}{@value #PROVENANCE_SUFFIX}, in the same
     * snapshot swap. Provenance files follow the RPMs' rule: the same bytes again are a no-op, other
     * bytes are refused (an RPM published earlier without one may get one now). Repodata never lists them.
     *
     * @param provenanceByRpm the provenance JSON of some or all of {@code rpms}, keyed by the same paths
     * @throws KilnException BAD_INPUT also for provenance of a file not in {@code rpms} or that is not JSON
     */
    public Publication publish(List<Path> rpms, Map<Path, byte[]> provenanceByRpm, SigningKey key) {
        return publish(rpms, provenanceByRpm, key, current -> NOTHING_REMOVED);
    }

    private static final PrunePlan NOTHING_REMOVED = new PrunePlan(List.of(), List.of(), Set.of(), List.of());

    /**
     * Removes old releases as {@link PrunePlan#keepNewest} chooses, through the publish path: a new
     * snapshot without their files (RPMs, source RPMs, provenance) and with repodata that leaves out
     * their entries, swapped in like a publish. The previous snapshot (and any a reader leases) still
     * holds them until a later publish removes it.
     */
    public Pruning prune(int keep, Pruning.Mode mode, SigningKey key) {
        PrunePlan.checkKeep(keep);
        if (currentSnapshot() == null) {
            return new Pruning(location.toString(), keep, List.of(), List.of(), List.of(), false);
        }
        if (mode == Pruning.Mode.DRY_RUN) {
            try (SnapshotLease lease = lease()) {
                PrunePlan plan = planPrune(lease.snapshot(), keep);
                return Pruning.of(location.toString(), keep, plan, present(lease.snapshot(), plan), false);
            }
        }
        PrunePlan[] plan = {NOTHING_REMOVED};
        List<List<String>> present = new java.util.ArrayList<>(List.of(List.of()));
        Publication p = publish(List.of(), Map.of(), key, current -> {
            plan[0] = planPrune(current, keep);
            present.set(0, present(current, plan[0]));
            return plan[0];
        });
        return Pruning.of(location.toString(), keep, plan[0], present.getFirst(), p.metadataChanged());
    }

    private static PrunePlan planPrune(Path snapshot, int keep) {
        try {
            Path repomd = snapshot.resolve("repodata").resolve(Repodata.REPOMD);
            if (!Files.isRegularFile(repomd)) {
                return PrunePlan.keepNewest(List.of(), keep);
            }
            String href = dev.kiln.repo.repodata.ServedPrimary.primaryHref(Files.readAllBytes(repomd))
                    .orElseThrow(() -> new IOException(repomd + " names no primary metadata"));
            try (var in = Files.newInputStream(snapshot.resolve(href))) {
                return PrunePlan.keepNewest(dev.kiln.repo.repodata.ServedPrimary.read(in), keep);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> present(Path snapshot, PrunePlan plan) {
        return plan.files().stream().filter(f -> Files.isRegularFile(snapshot.resolve(f), LinkOption.NOFOLLOW_LINKS)).toList();
    }

    /** Publishes {@code rpms} into a snapshot that leaves out what {@code removal} plans from the current one. */
    private Publication publish(List<Path> rpms, Map<Path, byte[]> provenanceByRpm, SigningKey key,
            java.util.function.Function<Path, PrunePlan> removal) {
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
        prepareFolders();
        // FileChannel.lock excludes other processes; within one JVM it would throw instead of wait, hence the in-process lock too.
        ReentrantLock local = LOCAL_LOCKS.computeIfAbsent(snapshots, p -> new ReentrantLock());
        long deadline = System.nanoTime() + lockTimeout.toNanos();
        try {
            if (!local.tryLock(lockTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                throw lockTimedOut();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw KilnException.interrupted();
        }
        try (FileChannel lockChannel = FileChannel.open(snapshots.resolve(".lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = lockWithin(lockChannel, deadline)) {
            // who holds it, for the message of whoever waits (the lock itself is the OS's, dropped when this process dies)
            Path holder = snapshots.resolve(".lock-holder");
            Path temp = snapshots.resolve(".lock-holder.part");
            Files.writeString(temp, "host " + hostName() + ", pid " + ProcessHandle.current().pid() + ", since " + Instant.now());
            Files.move(temp, holder, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try {
                return publishLocked(incoming, provenance, key, removal);
            } finally {
                Files.deleteIfExists(holder);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("publishing to " + location + " failed", e);
        } finally {
            local.unlock();
        }
    }

    private FileLock lockWithin(FileChannel channel, long deadline) throws IOException {
        long wait = 20;
        while (true) {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return lock;
            }
            if (System.nanoTime() > deadline) {
                throw lockTimedOut();
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

    private KilnException lockTimedOut() {
        String holder;
        try {
            holder = Files.readString(snapshots.resolve(".lock-holder")).strip();
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

    private Publication publishLocked(List<RpmFile> incoming, Map<Path, byte[]> provenance, SigningKey key,
            java.util.function.Function<Path, PrunePlan> removal) throws IOException {
        Path current = currentSnapshot();
        PrunePlan removed = current == null ? NOTHING_REMOVED : removal.apply(current);
        if (current != null && removed.empty() && unchanged(current, incoming, provenance)) {
            // nothing new: the live repomd.xml stays byte for byte, so no client downloads metadata again
            return new Publication(location.toString(), List.of(), names(incoming, provenance), false);
        }
        List<String> addedNames = new java.util.ArrayList<>();
        List<String> unchangedNames = new java.util.ArrayList<>();
        int next = snapshotNumbers().orElse(0) + 1;
        Path snapshot = snapshots.resolve(Integer.toString(next));
        boolean swapped = false;
        try {
            Files.createDirectory(snapshot);
            Files.createDirectories(snapshot.resolve(PACKAGES));
            Files.createDirectories(snapshot.resolve(SOURCES));
            // Exists before the snapshot goes live, so leasing it never changes the folder.
            writeDurably(snapshot.resolve(SnapshotLease.FILE), new byte[0]);
            if (current != null) {
                linkAll(current, snapshot, PACKAGES, removed.files());
                linkAll(current, snapshot, SOURCES, removed.files());
            }
            List<Path> added = new java.util.ArrayList<>();
            for (RpmFile rpm : incoming) {
                Path folder = snapshot.resolve(rpm.source() ? SOURCES : PACKAGES);
                boolean isNew = add(rpm, folder);
                (isNew ? addedNames : unchangedNames).add(rpm.canonicalFileName());
                if (isNew && !rpm.source()) {
                    added.add(folder.resolve(rpm.canonicalFileName()));
                }
                byte[] json = provenance.get(rpm.path().toAbsolutePath().normalize());
                if (json != null) {
                    String name = rpm.canonicalFileName() + PROVENANCE_SUFFIX;
                    (attach(folder.resolve(name), json) ? addedNames : unchangedNames).add(name);
                }
            }
            writeRepodata(current, snapshot, added, removed.removedPkgids(), key);
            retainMetadata(current, snapshot);
            writeDurably(snapshot.resolve(PUBLIC_KEY_FILE), key.armoredPublicKey().getBytes(StandardCharsets.US_ASCII));
            syncDirectory(snapshot.resolve(PACKAGES));
            syncDirectory(snapshot.resolve(SOURCES));
            syncDirectory(snapshot);
            swapTo(snapshot);
            swapped = true;
        } finally {
            if (!swapped) {
                deleteTree(snapshot);
            }
        }
        prune(snapshot, current);
        return new Publication(location.toString(), addedNames, unchangedNames, true);
    }

    private static List<String> names(List<RpmFile> incoming, Map<Path, byte[]> provenance) {
        List<String> names = new java.util.ArrayList<>();
        for (RpmFile rpm : incoming) {
            names.add(rpm.canonicalFileName());
            if (provenance.containsKey(rpm.path().toAbsolutePath().normalize())) {
                names.add(rpm.canonicalFileName() + PROVENANCE_SUFFIX);
            }
        }
        return names;
    }

    /**
     * Whether every RPM and provenance document is already published with the same bytes; refuses
     * (before anything is written) one published with other bytes.
     */
    private static boolean unchanged(Path current, List<RpmFile> incoming, Map<Path, byte[]> provenance) throws IOException {
        boolean same = true;
        for (RpmFile rpm : incoming) {
            Path folder = current.resolve(rpm.source() ? SOURCES : PACKAGES);
            Path published = folder.resolve(rpm.canonicalFileName());
            if (!Files.exists(published)) {
                same = false;
            } else if (Files.mismatch(published, rpm.path()) != -1) {
                throw changedRelease(published);
            }
            byte[] json = provenance.get(rpm.path().toAbsolutePath().normalize());
            if (json != null) {
                Path doc = folder.resolve(rpm.canonicalFileName() + PROVENANCE_SUFFIX);
                same &= Files.exists(doc) && java.util.Arrays.equals(Files.readAllBytes(doc), json);
            }
        }
        return same;
    }

    private static KilnException changedRelease(Path published) {
        return KilnException.badInput("RPM " + published.getFileName() + " is already published with different content: "
                + "a release must never be overwritten; bump the Release and rebuild");
    }

    /** The published binary RPMs, sorted by NEVRA string. */
    public List<Nevra> list() {
        try (SnapshotLease lease = lease()) {
            return lease == null ? List.of() : packages(lease.snapshot()).stream().map(RpmFile::nevra).toList();
        }
    }

    /**
     * The published binary RPMs with their headers, sorted by NEVRA string. Their paths are inside
     * the live snapshot, which stays leased (not pruned) until {@link #close()} or the end of the
     * process, so they can be read long after any number of publishes.
     */
    public List<RpmFile> packages() {
        SnapshotLease lease = lease();
        if (lease == null) {
            return List.of();
        }
        synchronized (held) {
            SnapshotLease earlier = held.putIfAbsent(lease.snapshot(), lease);
            if (earlier != null) {
                lease.close(); // this instance holds that snapshot already
            }
        }
        return packages(lease.snapshot());
    }

    /** Releases the snapshots {@link #packages()} leased, so a later publish may prune them. */
    @Override
    public void close() {
        synchronized (held) {
            held.values().forEach(SnapshotLease::close);
            held.clear();
        }
    }

    /** A lease on the live snapshot, or null before the first publish. */
    SnapshotLease lease() {
        return SnapshotLease.acquire(this::currentSnapshot);
    }

    private static List<RpmFile> packages(Path current) {
        try (Stream<Path> files = Files.list(current.resolve(PACKAGES))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".rpm"))
                    .map(RpmFile::read)
                    .sorted(Comparator.comparing(r -> r.nevra().toString()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The snapshot folder {@code location} points to now, or null before the first publish. */
    public Path currentSnapshot() {
        if (!Files.isSymbolicLink(location)) {
            if (Files.exists(location)) {
                throw KilnException.badInput("repository folder " + location
                        + " is a plain folder, not a Kiln repository link: choose an empty path or remove it");
            }
            return null;
        }
        Path current;
        try {
            current = location.toRealPath();
        } catch (IOException e) {
            throw KilnException.badInput("repository link " + location + " points nowhere (" + e.getMessage() + "): remove it and publish again");
        }
        // Only a link to one of its own snapshots is this repository: a link to /etc or a home folder would be served and written.
        if (!isOwnSnapshot(current)) {
            throw KilnException.badInput("repository link " + location + " does not point to one of its snapshots in "
                    + snapshots + ": it is not a Kiln repository; remove the link or choose another repository path");
        }
        return current;
    }

    private boolean isOwnSnapshot(Path real) {
        try {
            return Files.isDirectory(snapshots) && real.getParent() != null && real.getParent().equals(snapshots.toRealPath())
                    && SNAPSHOT_NAME.matcher(real.getFileName().toString()).matches();
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
        currentSnapshot();
        Path existing = snapshots.toAbsolutePath();
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

    private void prepareFolders() {
        currentSnapshot(); // refuses a plain folder before anything is created
        try {
            Files.createDirectories(snapshots);
            if (!Files.isWritable(snapshots) || !Files.isWritable(location.getParent())) {
                throw new AccessDeniedException(snapshots.toString());
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

    /** Links every file of {@code folder} of {@code current} into {@code snapshot} but those {@code left} names ({@code Packages/x.rpm}). */
    private static void linkAll(Path current, Path snapshot, String folder, List<String> left) throws IOException {
        Path from = current.resolve(folder);
        Path to = snapshot.resolve(folder);
        if (!Files.isDirectory(from)) {
            return;
        }
        Set<String> skip = new HashSet<>(left);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && !skip.contains(folder + "/" + file.getFileName())) {
                    // Hard links cost no space and share the immutable bytes; a release is never rewritten in place.
                    Files.createLink(to.resolve(file.getFileName()), file);
                }
            }
        }
    }

    /** Copies {@code rpm} into {@code folder}; false when the same bytes are there already. */
    private static boolean add(RpmFile rpm, Path folder) throws IOException {
        // The canonical name makes "same file name" mean "same NEVRA", so a release cannot sneak in twice under two names.
        Path target = folder.resolve(rpm.canonicalFileName());
        if (Files.exists(target)) {
            if (Files.mismatch(target, rpm.path()) == -1) {
                return false;
            }
            throw changedRelease(target);
        }
        Path temp = folder.resolve("." + target.getFileName() + ".part");
        Files.copy(rpm.path(), temp, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    /** Writes a provenance document; false when the same bytes are there already. */
    private static boolean attach(Path target, byte[] content) throws IOException {
        if (Files.exists(target)) {
            if (java.util.Arrays.equals(Files.readAllBytes(target), content)) {
                return false;
            }
            throw KilnException.badInput(target.getFileName() + " is already published with different content: "
                    + "provenance, like the RPM it describes, must never be overwritten");
        }
        Path temp = target.resolveSibling("." + target.getFileName() + ".part");
        Files.deleteIfExists(temp);
        writeDurably(temp, content);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    /**
     * Every build key recorded in the provenance of the published RPMs (binary and source), with
     * the RPMs whose provenance names it, as paths under {@link #location()}. Reads only the small
     * provenance files, once per snapshot.
     */
    public Map<String, List<Path>> buildKeys() {
        PublishedBuilds cached;
        try (SnapshotLease lease = lease()) {
            if (lease == null) {
                return Map.of();
            }
            Path current = lease.snapshot();
            cached = buildKeys;
            if (cached == null || !cached.snapshot().equals(current)) {
                cached = PublishedBuilds.read(current, List.of(PACKAGES, SOURCES));
                buildKeys = cached;
            }
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
        try (SnapshotLease lease = lease()) {
            if (lease == null) {
                return Optional.empty();
            }
            for (String folder : List.of(PACKAGES, SOURCES)) {
                Path file = lease.snapshot().resolve(folder).resolve(rpmFileName + PROVENANCE_SUFFIX);
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
    }

    /**
     * Writes the new snapshot's repodata: the current snapshot's documents plus the packages just
     * {@code added}, copied member by member ({@link Repodata}), so the cost is that of the new
     * packages and not of the repository. A repository whose metadata another tool (or an earlier
     * Kiln) wrote is indexed in full once.
     */
    private static void writeRepodata(Path current, Path snapshot, List<Path> added, Set<String> removed, SigningKey key)
            throws IOException {
        Path repodata = Files.createDirectories(snapshot.resolve("repodata"));
        Path earlierRepomd = current == null ? null : current.resolve("repodata").resolve(Repodata.REPOMD);
        byte[] earlier = earlierRepomd != null && Files.isRegularFile(earlierRepomd) ? Files.readAllBytes(earlierRepomd) : null;
        Repodata.Written written;
        if (earlier != null && !Repodata.entries(earlier).isEmpty()) {
            written = Repodata.write(current.resolve("repodata"), earlier, removed, Repodata.read(added, DirectoryRepository::href), repodata,
                    Instant.now());
        } else {
            List<Path> packages;
            try (Stream<Path> files = Files.list(snapshot.resolve(PACKAGES))) {
                packages = files.filter(p -> p.getFileName().toString().endsWith(".rpm")).sorted().toList();
            }
            written = Repodata.write(null, null, Repodata.read(packages, DirectoryRepository::href), repodata, Instant.now());
        }
        writeDurably(repodata.resolve(Repodata.REPOMD), written.repomd());
        writeDurably(repodata.resolve(Repodata.REPOMD_SIGNATURE), key.detachedSignature(written.repomd()));
        syncDirectory(repodata);
    }

    private static String href(Path rpm) {
        return PACKAGES + "/" + rpm.getFileName();
    }

    /**
     * Hard-links into the new snapshot's {@code repodata/} the files the replaced {@code repomd.xml}
     * names and those retained earlier still within their grace, and records when each was replaced.
     */
    private void retainMetadata(Path current, Path snapshot) throws IOException {
        RetainedMetadata retained = RetainedMetadata.NONE;
        if (current != null) {
            Path replaced = current.resolve("repodata/repomd.xml");
            List<String> named = Files.isRegularFile(replaced) ? RetainedMetadata.locations(Files.readAllBytes(replaced)) : List.of();
            Path record = current.resolve(RetainedMetadata.FILE);
            RetainedMetadata earlier = Files.isRegularFile(record)
                    ? RetainedMetadata.parse(Files.readString(record, StandardCharsets.UTF_8)) : RetainedMetadata.NONE;
            retained = earlier.next(named, Instant.now(), metadataGrace);
        }
        Set<String> skipped = new HashSet<>();
        for (String path : retained.supersededAt().keySet()) {
            Path from = current.resolve(path);
            Path to = snapshot.resolve(path);
            // A name the new repomd.xml uses itself wins; a file already gone cannot be served anyway.
            if (Files.exists(to, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) {
                skipped.add(path);
            } else {
                Files.createLink(to, from);
            }
        }
        writeDurably(snapshot.resolve(RetainedMetadata.FILE), retained.without(skipped).render().getBytes(StandardCharsets.UTF_8));
        syncDirectory(snapshot.resolve("repodata"));
    }

    private void swapTo(Path snapshot) throws IOException {
        Path link = location.resolveSibling("." + location.getFileName() + ".link-" + snapshot.getFileName());
        Files.deleteIfExists(link);
        // A relative target keeps the repository valid when the parent folder is moved or mounted elsewhere.
        Files.createSymbolicLink(link, location.getParent().relativize(snapshot));
        try {
            Files.move(link, location, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(link);
            throw e;
        }
        syncDirectory(location.getParent());
    }

    /**
     * Removes every snapshot but {@code keep} and {@code previous} that no process leases; a leased
     * one stays for a later publish. Runs under the publish lock, after the swap.
     */
    private void prune(Path keep, Path previous) {
        List<Path> dirs;
        Path keepReal;
        try (Stream<Path> listing = Files.list(snapshots)) {
            dirs = listing.sorted().toList();
            keepReal = keep.toRealPath();
        } catch (IOException e) {
            return; // the new snapshot is live; what is left behind costs disk space only and goes next time
        }
        for (Path dir : dirs) {
            String name = dir.getFileName().toString();
            try {
                if (name.startsWith(SnapshotLease.RETIRED_PREFIX)) {
                    deleteTree(dir); // renamed away by an earlier prune that did not finish deleting
                } else if (SNAPSHOT_NAME.matcher(name).matches() && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    Path real = dir.toRealPath(); // previous is a real path; the snapshots folder may not be
                    if (real.equals(keepReal) || real.equals(previous)) {
                        continue;
                    }
                    Path retired = dir.resolveSibling(SnapshotLease.RETIRED_PREFIX + name);
                    if (SnapshotLease.retire(real, retired)) {
                        deleteTree(retired);
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                // as above: left for the next publish
            }
        }
    }

    private OptionalInt snapshotNumbers() throws IOException {
        try (Stream<Path> dirs = Files.list(snapshots)) {
            return dirs.map(p -> p.getFileName().toString())
                    .filter(n -> SNAPSHOT_NAME.matcher(n).matches())
                    .mapToInt(Integer::parseInt)
                    .max();
        }
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

    /** Removes {@code root} and everything in it; nothing happens when it is gone. */
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
