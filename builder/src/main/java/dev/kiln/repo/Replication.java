package dev.kiln.repo;

import dev.kiln.KilnException;
import dev.kiln.Sha256;
import dev.kiln.repo.repodata.Repodata;
import dev.kiln.repo.repodata.ServedPrimary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Makes replicas match a source repository ({@code kiln repo sync}), copying only what differs, in
 * the order clients need: packages, source RPMs and provenance first (several at once), then the
 * metadata folder with the source's own {@code repomd.xml} and {@code repomd.xml.asc}, byte for
 * byte, so a client with {@code repo_gpgcheck} verifies every replica with the same key. Each
 * replica is visited under its publish lock; one that fails is left as it was (its live metadata
 * untouched, at worst with unlisted packages) and the others are synced all the same.
 *
 * <p>What is compared: a package by the sha256 the source's primary metadata gives it against the
 * one the replica's live metadata lists under the same href; a metadata document by its name, which
 * is its checksum; source RPMs and provenance documents by the replica's own listing of its
 * {@code SRPMS/} and {@code Packages/} folders. A name is enough for those: a release is immutable
 * (every publish refuses other bytes under a published name) and a file gets its name only by a
 * rename once it is whole, so a name present is those bytes. A checksum manifest would cost a
 * file every publish must keep right on every site, and reading the files back would cost a full
 * download of each replica per run.
 *
 * <p>Every file copied is first read from the source into this machine's scratch folder once per
 * run (a package checked against its sha256), then placed on each replica that lacks it;
 * {@link Bandwidth} caps the bytes placed, over all transfers and replicas of the run.
 */
public final class Replication {

    private static final Pattern PACKAGE_PATH = Pattern.compile("(Packages|SRPMS)/[^/.][^/]*");
    private static final String PUBLIC_KEY = DirectoryRepository.PUBLIC_KEY_FILE;

    /** What became of one replica. */
    public sealed interface Outcome {
        String target();

        /**
         * @param compared the files of the source checked against the replica
         * @param copied the files written to it (packages, provenance, source RPMs, metadata)
         * @param bytes their size
         * @param metadataChanged whether its live metadata was replaced
         */
        record Synced(String target, int compared, int copied, long bytes, boolean metadataChanged, long millis) implements Outcome {
        }

        /** Left as it was (or with unlisted packages only); {@code exitCode} is the {@link KilnException}'s. */
        record Failed(String target, int exitCode, String message) implements Outcome {
        }
    }

    private final ReplicaSource source;
    private final int jobs;
    private final Bandwidth bandwidth;
    private final Path scratch;
    /** Each source file read once per run, however many replicas need it. */
    private final Map<String, CompletableFuture<Path>> fetched = new ConcurrentHashMap<>();

    /**
     * @param jobs how many transfers run at once (1 or more)
     * @param scratch an empty folder of this machine for the files read from the source
     */
    public Replication(ReplicaSource source, int jobs, Bandwidth bandwidth, Path scratch) {
        if (jobs < 1) {
            throw new IllegalArgumentException("jobs " + jobs);
        }
        this.source = source;
        this.jobs = jobs;
        this.bandwidth = bandwidth;
        this.scratch = scratch;
    }

    /** What the source serves: its signed metadata and the files the replicas must hold. */
    record Served(byte[] repomd, byte[] signature, byte[] publicKey, Map<String, String> documents, Map<String, String> packages,
            List<String> others) {

        int files() {
            return documents.size() + packages.size() + others.size() + 2;
        }
    }

    /** Syncs each replica in turn; a failure of one is its outcome, not the end of the run. */
    public List<Outcome> run(List<Replica> replicas) {
        Served served = read();
        List<Outcome> outcomes = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(jobs)) {
            for (Replica replica : replicas) {
                String name = replica.config().name();
                long started = System.nanoTime();
                try {
                    Outcome.Synced synced = replica.underLock(session -> sync(served, session, pool, name, started));
                    outcomes.add(synced);
                } catch (KilnException e) {
                    outcomes.add(new Outcome.Failed(name, e.exitCode(), e.getMessage()));
                } catch (UncheckedIOException e) {
                    outcomes.add(new Outcome.Failed(name, KilnException.ENVIRONMENT, "target " + name + " ("
                            + replica.config().describe() + "): " + describe(e)));
                }
            }
        }
        return outcomes;
    }

    private Served read() {
        String site = "source " + source.config().name() + " (" + source.config().describe() + ")";
        byte[] repomd = null;
        byte[] signature = null;
        byte[] publicKey = null;
        // The three are read one by one: a publish to the source meanwhile shows as a signature that does not verify
        // what was read, and they are read again, so a replica never gets a repomd.xml with another's signature.
        for (int attempt = 1; repomd == null; attempt++) {
            byte[] read = source.read(DirectoryRepository.REPODATA + "/" + Repodata.REPOMD).orElseThrow(() -> KilnException.badInput(
                    site + " has nothing published (no repodata/repomd.xml): publish to it first, or name another --from"));
            signature = source.read(DirectoryRepository.REPODATA + "/" + Repodata.REPOMD_SIGNATURE).orElseThrow(() -> KilnException
                    .badInput(site + " has no repodata/repomd.xml.asc: a replica must be verifiable with repo_gpgcheck; publish to it with Kiln"));
            publicKey = source.read(PUBLIC_KEY).orElseThrow(() -> KilnException.badInput(
                    site + " has no " + PUBLIC_KEY + ": publish to it with Kiln, which writes it"));
            if (verifies(read, signature, publicKey)) {
                repomd = read;
            } else if (attempt == 3) {
                throw KilnException.environment(site + ": repodata/repomd.xml.asc does not verify repodata/repomd.xml with its "
                        + PUBLIC_KEY + ": run ./kiln repo verify --target " + source.config().name());
            }
        }
        Map<String, String> documents = new LinkedHashMap<>();
        for (Repodata.Entry entry : Repodata.entries(repomd).values()) {
            documents.put(Repodata.fileName(entry.href()), entry.checksum());
        }
        if (documents.isEmpty()) {
            throw KilnException.badInput(site + ": its repomd.xml was not written by Kiln: sync replicates Kiln's repositories only");
        }
        Map<String, String> packages = new LinkedHashMap<>();
        String primary = Repodata.fileName(ServedPrimary.primaryHref(repomd).orElseThrow());
        Path primaryFile = fetch(DirectoryRepository.REPODATA + "/" + primary, documents.get(primary));
        try (var in = Files.newInputStream(primaryFile)) {
            for (ServedPrimary.Package p : ServedPrimary.read(in)) {
                if (!PACKAGE_PATH.matcher(p.href()).matches()) {
                    throw KilnException.badInput(site + ": its metadata lists " + p.href() + ", outside Packages/: not a Kiln repository");
                }
                packages.put(p.href(), p.checksum());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> others = new ArrayList<>();
        for (String folder : List.of(DirectoryRepository.PACKAGES, DirectoryRepository.SOURCES)) {
            for (String name : source.list(folder)) {
                String path = folder + "/" + name;
                if (!PACKAGE_PATH.matcher(path).matches() || packages.containsKey(path)) {
                    continue;
                }
                // a provenance document goes with the package it describes; an RPM the metadata does not list is a leftover
                boolean provenance = name.endsWith(DirectoryRepository.PROVENANCE_SUFFIX);
                String subject = provenance ? path.substring(0, path.length() - DirectoryRepository.PROVENANCE_SUFFIX.length()) : path;
                boolean served = folder.equals(DirectoryRepository.SOURCES) ? subject.endsWith(".rpm") : packages.containsKey(subject);
                if (served && (provenance || !folder.equals(DirectoryRepository.PACKAGES))) {
                    others.add(path);
                }
            }
        }
        return new Served(repomd, signature, publicKey, documents, packages, others);
    }

    private boolean verifies(byte[] repomd, byte[] signature, byte[] publicKey) {
        try {
            Path key = scratch.resolve(PUBLIC_KEY);
            Files.write(key, publicKey);
            return dev.kiln.rpm.SigningKey.publicOnly(key).verifiesDetached(repomd, signature);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Outcome.Synced sync(Served served, Replica.Session session, ExecutorService pool, String name, long started) {
        Map<String, String> listed = session.listed();
        Set<String> files = session.files();
        List<String> toCopy = new ArrayList<>();
        served.packages().forEach((href, sha) -> {
            if (!sha.equals(listed.get(href))) {
                toCopy.add(href);
            }
        });
        served.others().stream().filter(p -> !files.contains(p)).forEach(toCopy::add);
        boolean metadata = !Arrays.equals(session.repomd().orElse(null), served.repomd())
                || !Arrays.equals(session.signature().orElse(null), served.signature());
        if (toCopy.isEmpty() && !metadata) {
            return new Outcome.Synced(name, served.files(), 0, 0, false, millis(started));
        }
        AtomicLong bytes = new AtomicLong();
        if (!toCopy.isEmpty()) {
            session.placing(toCopy);
            List<Future<?>> transfers = new ArrayList<>();
            for (String path : toCopy) {
                transfers.add(pool.submit(() -> {
                    Path local = fetch(path, served.packages().get(path));
                    try {
                        session.place(path, local, bandwidth);
                    } catch (KilnException e) {
                        // the request's own message names the site and a temporary name: say which file it was
                        throw new KilnException(e.exitCode(), "copying " + path + " to target " + name + " failed: " + e.getMessage(), e);
                    }
                    bytes.addAndGet(size(local));
                }));
            }
            awaitAll(transfers);
        }
        int copied = toCopy.size();
        if (metadata) {
            Set<String> there = session.metadataFiles();
            Map<String, Path> documents = new LinkedHashMap<>();
            List<Future<?>> reads = new ArrayList<>();
            served.documents().forEach((file, sha) -> reads.add(pool.submit(() -> fetch(DirectoryRepository.REPODATA + "/" + file, sha))));
            awaitAll(reads);
            for (Map.Entry<String, String> doc : served.documents().entrySet()) {
                Path local = fetch(DirectoryRepository.REPODATA + "/" + doc.getKey(), doc.getValue());
                documents.put(doc.getKey(), local);
                if (!there.contains(doc.getKey())) {
                    copied++;
                    bytes.addAndGet(size(local));
                }
            }
            session.swapInMetadata(served.repomd(), served.signature(), served.publicKey(), documents, bandwidth);
            copied += 2;
            bytes.addAndGet(served.repomd().length + served.signature().length);
        }
        return new Outcome.Synced(name, served.files(), copied, bytes.get(), metadata, millis(started));
    }

    /** The source's file at {@code path} on this machine, read once per run and checked against {@code sha256} when given. */
    private Path fetch(String path, String sha256) {
        CompletableFuture<Path> mine = new CompletableFuture<>();
        CompletableFuture<Path> earlier = fetched.putIfAbsent(path, mine);
        if (earlier != null) {
            try {
                return earlier.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        try {
            Path file = scratch.resolve(path);
            Files.createDirectories(file.getParent());
            source.download(path, file);
            if (sha256 != null && !Sha256.hex(file).equals(sha256)) {
                throw KilnException.environment("source " + source.config().name() + ": " + path + " does not match its sha256 in "
                        + "the source's metadata: run ./kiln repo verify --target " + source.config().name());
            }
            mine.complete(file);
            return file;
        } catch (IOException e) {
            UncheckedIOException failure = new UncheckedIOException("cannot keep " + path + " in " + scratch, e);
            mine.completeExceptionally(failure);
            throw failure;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        }
    }

    /** Waits for every transfer, then reports the first failure: none is abandoned half-way. */
    private static void awaitAll(List<Future<?>> futures) {
        RuntimeException first = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw KilnException.interrupted();
            } catch (ExecutionException e) {
                if (first == null) {
                    first = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long millis(long started) {
        return (System.nanoTime() - started) / 1_000_000;
    }

    private static String describe(UncheckedIOException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        return Optional.ofNullable(e.getMessage()).orElse("") + " (" + cause.getClass().getSimpleName()
                + (cause.getMessage() == null ? "" : ": " + cause.getMessage()) + ")";
    }
}
