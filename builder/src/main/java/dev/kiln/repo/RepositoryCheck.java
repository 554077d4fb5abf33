package dev.kiln.repo;

import dev.kiln.KilnException;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.CheckReport.Failure;
import dev.kiln.repo.CheckReport.FailureKind;
import dev.kiln.repo.repodata.Repodata;
import dev.kiln.repo.repodata.ServedPrimary;
import dev.kiln.repo.repodata.ServedRepomd;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.RpmVersion;
import dev.kiln.rpm.SigningKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The canary: does what a user's dnf does with a target and reports every way it would fail. It
 * fetches {@code repodata/repomd.xml} and checks {@code repomd.xml.asc} with the company key, fetches
 * every document repomd names and checks its checksum, reads primary, downloads the latest package
 * of each name and architecture and checks its checksum and header signature, and optionally
 * installs those packages with real dnf ({@link ScratchInstall}).
 *
 * <p>Unlike {@link Verification} (every package Kiln's own package list names), it reads the
 * primary document whatever tool wrote it and downloads only what a user installing today would:
 * the latest of each package, so a run costs about one download of each package, not of the
 * repository's history.
 *
 * <pre>{@code
 * try (ServedRepository served = ServedRepository.open(target, env, cache)) {
 *     CheckReport report = new RepositoryCheck(key, Clock.systemUTC()).run(target.config().name(), served, false, Map.of());
 *     CheckMetrics.write(Path.of("/var/lib/prometheus/node-exporter/kiln-repo.prom"), report, Instant.now());
 * }
 * }</pre>
 */
public final class RepositoryCheck {

    static final String REPOMD_PATH = "repodata/" + Repodata.REPOMD;
    private static final String SIGNATURE_PATH = "repodata/" + Repodata.REPOMD_SIGNATURE;
    /** Packages downloaded and checked at the same time. */
    static final int PARALLEL = 4;

    private final SigningKey key;
    private final Clock clock;

    public RepositoryCheck(SigningKey key, Clock clock) {
        this.key = key;
        this.clock = clock;
    }

    /**
     * Opens {@code target} and its {@code replicas} as a user's dnf reads them (credentials from
     * {@code env}, downloads cached in {@code cache}, scratch files in {@code scratch}), checks
     * them as {@link #run(String, ServedRepository, boolean, Map)} does and closes them again.
     */
    public CheckReport run(TargetConfig target, List<TargetConfig> replicas, boolean install, Map<String, String> env, Path cache,
            Path scratch) {
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            PublishTarget checked = open(opened, Targets.open(target, env, cache));
            ServedRepository served = open(opened, ServedRepository.open(checked, env, scratch));
            Map<String, ServedRepository> mirrors = new LinkedHashMap<>();
            for (TargetConfig r : replicas) {
                PublishTarget replica = open(opened, Targets.open(r, env, cache));
                mirrors.put(r.name(), open(opened, ServedRepository.open(replica, env, scratch)));
            }
            return run(target.name(), served, install, mirrors);
        } finally {
            for (AutoCloseable c : opened.reversed()) {
                try {
                    c.close();
                } catch (Exception e) {
                    // closing a reader or a loopback server; the check's result stands
                }
            }
        }
    }

    private static <T extends AutoCloseable> T open(List<AutoCloseable> opened, T resource) {
        opened.add(resource);
        return resource;
    }

    /**
     * Checks {@code served} and measures each replica's lag against it.
     *
     * @param install whether to install the latest packages with dnf as well
     */
    public CheckReport run(String target, ServedRepository served, boolean install, Map<String, ServedRepository> replicas) {
        Instant started = clock.instant();
        long t0 = System.nanoTime();
        List<Failure> failures = new ArrayList<>();
        Optional<byte[]> repomdBytes;
        try {
            repomdBytes = served.read(REPOMD_PATH);
        } catch (KilnException e) {
            if (e.exitCode() != KilnException.ENVIRONMENT) {
                throw e;
            }
            return new CheckReport(target, served.url(), Optional.of(e.getMessage()), 0, 0, Optional.empty(), List.of(), List.of(),
                    started, Duration.ofNanos(System.nanoTime() - t0));
        }
        Optional<Instant> newest = Optional.empty();
        int packages = 0;
        int documents = 0;
        if (repomdBytes.isEmpty()) {
            failures.add(new Failure(FailureKind.METADATA, REPOMD_PATH, "is missing (404): dnf finds no repository there"));
        } else {
            checkSignatures(served, repomdBytes.get(), failures);
            try {
                ServedRepomd repomd = ServedRepomd.read(repomdBytes.get());
                newest = repomd.newestPublish();
                Optional<Path> primary = checkDocuments(served, repomd, failures);
                documents = repomd.documents().size();
                if (primary.isPresent()) {
                    List<ServedPrimary.Package> latest = latest(primary.get(), failures);
                    packages = latest.size();
                    checkPackages(served, latest, failures);
                    if (install) {
                        List<Nevra> installable = latest.stream().map(ServedPrimary.Package::nevra).filter(ScratchInstall::installableHere).toList();
                        failures.addAll(ScratchInstall.install(served.urlForOtherPrograms(), installable, served.scratch("installroot")));
                    }
                }
            } catch (IOException e) {
                failures.add(new Failure(FailureKind.METADATA, REPOMD_PATH, e.getMessage()));
            }
        }
        List<CheckReport.Replica> measured = new ArrayList<>();
        for (Map.Entry<String, ServedRepository> replica : replicas.entrySet()) {
            measured.add(replica(replica.getKey(), replica.getValue(), newest));
        }
        return new CheckReport(target, served.url(), Optional.empty(), packages, documents, newest, failures, measured, started,
                Duration.ofNanos(System.nanoTime() - t0));
    }

    /** repomd.xml.asc must be the company key's signature, and the key dnf imports must be the company key. */
    private void checkSignatures(ServedRepository served, byte[] repomd, List<Failure> failures) {
        Optional<byte[]> signature = readSmall(served, SIGNATURE_PATH, failures);
        if (signature != null) {
            if (signature.isEmpty()) {
                failures.add(new Failure(FailureKind.SIGNATURE, SIGNATURE_PATH, "is missing: dnf with repo_gpgcheck=1 refuses the repository"));
            } else if (!key.verifiesDetached(repomd, signature.get())) {
                failures.add(new Failure(FailureKind.SIGNATURE, SIGNATURE_PATH, "is not a valid signature of key " + key.keyId()
                        + " over repomd.xml: dnf with repo_gpgcheck=1 refuses the repository"));
            }
        }
        String publicKey = DirectoryRepository.PUBLIC_KEY_FILE;
        Optional<byte[]> served0 = readSmall(served, publicKey, failures);
        if (served0 != null) {
            if (served0.isEmpty()) {
                failures.add(new Failure(FailureKind.SIGNATURE, publicKey, "is missing: dnf's gpgkey URL fails, so it can check no signature"));
            } else if (!new String(served0.get(), StandardCharsets.US_ASCII).strip().equals(key.armoredPublicKey().strip())) {
                failures.add(new Failure(FailureKind.SIGNATURE, publicKey, "is not the public key of the company key " + key.keyId()
                        + ": users importing it trust another key, and the company's signatures do not verify with it"));
            }
        }
    }

    /** A small file, or null when it could not be downloaded (then the failure is recorded). */
    private static Optional<byte[]> readSmall(ServedRepository served, String path, List<Failure> failures) {
        try {
            return served.read(path);
        } catch (KilnException e) {
            failures.add(new Failure(FailureKind.DOWNLOAD, path, e.getMessage()));
            return null;
        }
    }

    /** Fetches and checks every document; the local copy of primary when it is there and intact. */
    private static Optional<Path> checkDocuments(ServedRepository served, ServedRepomd repomd, List<Failure> failures) throws IOException {
        Optional<Path> primary = Optional.empty();
        if (repomd.document("primary").isEmpty()) {
            failures.add(new Failure(FailureKind.METADATA, REPOMD_PATH, "names no primary document: dnf finds no package"));
        }
        for (ServedRepomd.Document d : repomd.documents()) {
            Optional<Path> file = download(served, d.href(), failures);
            if (file == null) {
                continue;
            }
            if (file.isEmpty()) {
                failures.add(new Failure(FailureKind.METADATA, d.href(), "is missing (404) although repomd.xml names it as "
                        + d.type() + ": dnf fails to load the repository"));
            } else if (!matches(file.get(), d.checksumType(), d.checksum())) {
                failures.add(new Failure(FailureKind.CHECKSUM, d.href(), "does not match its " + d.checksumType()
                        + " checksum in repomd.xml: dnf refuses the repository"));
            } else if (d.type().equals("primary")) {
                primary = file;
                continue;
            }
            if (file.isPresent()) {
                Files.delete(file.get()); // only primary is read further
            }
        }
        return primary;
    }

    /** The newest package of each name and architecture that primary lists. */
    private static List<ServedPrimary.Package> latest(Path primary, List<Failure> failures) {
        List<ServedPrimary.Package> listed;
        try (InputStream in = Files.newInputStream(primary)) {
            listed = ServedPrimary.read(in);
        } catch (IOException e) {
            failures.add(new Failure(FailureKind.METADATA, "primary", e.getMessage()));
            return List.of();
        }
        Map<String, ServedPrimary.Package> newest = new LinkedHashMap<>();
        for (ServedPrimary.Package p : listed) {
            if (p.nevra().arch().equals("src")) {
                continue;
            }
            newest.merge(p.nevra().name() + "." + p.nevra().arch(), p, (a, b) -> PrunePlan.RPM_ORDER.compare(b.nevra(), a.nevra()) > 0 ? b : a);
        }
        return List.copyOf(newest.values());
    }

    /**
     * Downloads and checks the packages {@link #PARALLEL} at a time (a download waits on the
     * network, a check on the processor), reporting in primary's order.
     */
    private void checkPackages(ServedRepository served, List<ServedPrimary.Package> latest, List<Failure> failures) throws IOException {
        try (ExecutorService pool = Executors.newFixedThreadPool(PARALLEL)) {
            List<Future<List<Failure>>> checks = new ArrayList<>();
            for (ServedPrimary.Package p : latest) {
                checks.add(pool.submit(() -> checkPackage(served, p)));
            }
            for (Future<List<Failure>> check : checks) {
                failures.addAll(result(check));
            }
        }
    }

    private List<Failure> checkPackage(ServedRepository served, ServedPrimary.Package p) throws IOException {
        List<Failure> failures = new ArrayList<>(1);
        Optional<Path> file = download(served, p.href(), failures);
        if (file == null) {
            return failures;
        }
        if (file.isEmpty()) {
            failures.add(new Failure(FailureKind.DOWNLOAD, p.href(), "is missing (404) although primary lists " + p.nevra()));
            return failures;
        }
        try {
            if (!matches(file.get(), p.checksumType(), p.checksum())) {
                failures.add(new Failure(FailureKind.CHECKSUM, p.href(), "does not match its " + p.checksumType()
                        + " checksum in primary: dnf refuses to install " + p.nevra()));
                return failures;
            }
            RpmSigner.Signature s;
            try {
                s = new RpmSigner(key).check(file.get());
            } catch (KilnException e) {
                failures.add(new Failure(FailureKind.SIGNATURE, p.href(), "cannot be read as an RPM: " + e.getMessage()));
                return failures;
            }
            if (!(s instanceof RpmSigner.Signature.ByThisKey)) {
                failures.add(new Failure(FailureKind.SIGNATURE, p.href(), switch (s) {
                    case RpmSigner.Signature.Unsigned u -> "is not signed";
                    case RpmSigner.Signature.Other o when !o.keyId().isEmpty() -> "is signed by key " + o.keyId() + ", not " + key.keyId();
                    default -> "has a header signature that does not verify with key " + key.keyId();
                } + ": dnf with gpgcheck=1 refuses to install it"));
            }
            return failures;
        } finally {
            Files.deleteIfExists(file.get());
        }
    }

    static <T> T result(Future<T> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw KilnException.interrupted();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** A download into the scratch folder; null when the server failed to answer (the failure is recorded). */
    private static Optional<Path> download(ServedRepository served, String path, List<Failure> failures) throws IOException {
        try {
            return served.fetch(path);
        } catch (KilnException e) {
            if (e.exitCode() != KilnException.ENVIRONMENT) {
                throw e;
            }
            failures.add(new Failure(FailureKind.DOWNLOAD, path, e.getMessage()));
            return null;
        }
    }

    /** A replica's lag: how far its newest publish is behind {@code newest}, read from its signed repomd.xml. */
    private CheckReport.Replica replica(String site, ServedRepository replica, Optional<Instant> newest) {
        Optional<String> problem;
        Optional<Instant> replicaNewest = Optional.empty();
        try {
            Optional<byte[]> repomd = replica.read(REPOMD_PATH);
            Optional<byte[]> signature = repomd.isEmpty() ? Optional.empty() : replica.read(SIGNATURE_PATH);
            if (repomd.isEmpty()) {
                problem = Optional.of(REPOMD_PATH + " is missing (404)");
            } else if (signature.isEmpty() || !key.verifiesDetached(repomd.get(), signature.get())) {
                // an unsigned repomd says nothing trustworthy about when the replica was published
                problem = Optional.of(SIGNATURE_PATH + " is missing or not a valid signature of key " + key.keyId());
            } else {
                replicaNewest = ServedRepomd.read(repomd.get()).newestPublish();
                problem = replicaNewest.isEmpty() ? Optional.of(REPOMD_PATH + " says nothing of when it was published") : Optional.empty();
            }
        } catch (KilnException | IOException e) {
            problem = Optional.of(e.getMessage());
        }
        Optional<Duration> lag = Optional.empty();
        if (problem.isEmpty() && newest.isPresent()) {
            Duration behind = Duration.between(replicaNewest.get(), newest.get());
            lag = Optional.of(behind.isNegative() ? Duration.ZERO : behind);
        } else if (problem.isEmpty()) {
            problem = Optional.of("the checked target's publish time is unknown");
        }
        return new CheckReport.Replica(site, replica.url(), replicaNewest, lag, problem);
    }

    /** Whether {@code file} has {@code checksum} of the type repomd and primary name ({@code sha256}, {@code sha512}, {@code sha}...). */
    static boolean matches(Path file, String type, String checksum) throws IOException {
        String algorithm = switch (type.toLowerCase(Locale.ROOT)) {
            case "sha", "sha1" -> "SHA-1";
            case "sha224" -> "SHA-224";
            case "sha256" -> "SHA-256";
            case "sha384" -> "SHA-384";
            case "sha512" -> "SHA-512";
            case "md5" -> "MD5";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest()).equalsIgnoreCase(checksum);
    }
}
