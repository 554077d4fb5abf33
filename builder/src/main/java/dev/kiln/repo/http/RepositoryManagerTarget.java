package dev.kiln.repo.http;

import dev.kiln.KilnException;
import dev.kiln.Sha256;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.DirectoryRepository;
import dev.kiln.repo.PrunePlan;
import dev.kiln.repo.Pruning;
import dev.kiln.repo.Publication;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Verification;
import dev.kiln.repo.repodata.ServedPrimary;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A repository manager that computes the YUM metadata itself (Nexus, Artifactory): Kiln uploads the
 * packages, asks for the metadata where the product offers that, and then waits, up to the target's
 * {@code index-timeout}, until the served {@code primary.xml} lists every new package: "published"
 * means a client can install it. The metadata, and its signature, are the manager's.
 *
 * <p>Subclasses say where a file is uploaded and how; this class does the rest.
 */
public abstract class RepositoryManagerTarget implements PublishTarget {


    protected final TargetConfig config;
    protected final WebDav http;
    private final Path cache;
    private final Clock clock;

    protected RepositoryManagerTarget(TargetConfig config, WebDav http, Path cache, Clock clock) {
        this.config = config;
        this.http = http;
        this.cache = cache;
        this.clock = clock;
    }

    /** The path, relative to the target URL, of the repository root clients read ({@code rpm-local/} for Artifactory). */
    protected abstract String servedRoot();

    /**
     * Uploads {@code file} to {@code path} (relative to the served root).
     *
     * @return false when the manager refuses because the path exists already
     */
    protected abstract boolean upload(String path, Path file, String sha256);

    /** Called once after the uploads of a publish or the deletions of a prune: the place to ask the manager for its metadata. */
    protected void afterChanges() {
    }

    @Override
    public TargetConfig config() {
        return config;
    }

    @Override
    public URI baseUrl() {
        return http.uri(servedRoot());
    }

    @Override
    public void check() {
        http.get(servedRoot() + "repodata/repomd.xml");
    }

    @Override
    public List<Nevra> list() {
        return served().stream().map(ServedPrimary.Package::nevra).sorted(Comparator.comparing(Nevra::toString)).toList();
    }

    /** What the manager's primary.xml lists now; empty before its first metadata. */
    protected List<ServedPrimary.Package> served() {
        Optional<byte[]> repomd = http.get(servedRoot() + "repodata/repomd.xml");
        if (repomd.isEmpty()) {
            return List.of();
        }
        String href = ServedPrimary.primaryHref(repomd.get()).orElseThrow(() -> KilnException.environment("target "
                + config.name() + ": " + http.uri(servedRoot() + "repodata/repomd.xml") + " names no primary metadata"));
        Path file = temp();
        try {
            if (!http.download(servedRoot() + href, file)) {
                return List.of(); // replaced between the two requests: the caller asks again
            }
            try (var in = Files.newInputStream(file)) {
                return ServedPrimary.read(in);
            }
        } catch (IOException e) {
            throw KilnException.environment("target " + config.name() + ": its primary metadata does not read (" + e.getMessage() + ")");
        } finally {
            delete(file);
        }
    }

    @Override
    public Publication publish(List<Path> rpms, Map<Path, byte[]> provenance, SigningKey key) {
        List<RpmFile> incoming = PublishTarget.readSigned(rpms);
        // Plan before any upload: what is there with the same bytes, and what would change a release.
        List<RpmFile> fresh = new ArrayList<>();
        List<String> unchanged = new ArrayList<>();
        for (RpmFile rpm : incoming) {
            String path = path(rpm);
            if (sameBytesThere(path, rpm.path())) {
                unchanged.add(rpm.canonicalFileName());
            } else {
                fresh.add(rpm);
            }
        }
        if (fresh.isEmpty()) {
            return new Publication(config.name(), List.of(), unchanged, false);
        }
        List<String> added = new ArrayList<>();
        try {
            for (RpmFile rpm : fresh) {
                String sha = Sha256.hex(rpm.path());
                if (!upload(path(rpm), rpm.path(), sha)) {
                    throw changedRelease(path(rpm)); // appeared since the plan: another publisher's bytes
                }
                added.add(rpm.canonicalFileName());
                byte[] json = provenance.get(rpm.path().toAbsolutePath().normalize());
                if (json != null) {
                    Path doc = temp();
                    Files.write(doc, json);
                    try {
                        upload(path(rpm) + DirectoryRepository.PROVENANCE_SUFFIX, doc, Sha256.hex(json));
                    } finally {
                        delete(doc);
                    }
                    added.add(rpm.canonicalFileName() + DirectoryRepository.PROVENANCE_SUFFIX);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        afterChanges();
        awaitIndex(fresh.stream().filter(r -> !r.source()).map(RpmFile::nevra).toList(), List.of());
        return new Publication(config.name(), added, unchanged, true);
    }

    /**
     * Removes old releases by deleting their files ({@code DELETE <served root><path>}, as both
     * products document), then waits, up to {@code index-timeout}, until the manager's metadata no
     * longer lists them. Atomic only as far as the manager's own re-indexing is: until it has made
     * new metadata, a client may be told of a removed package it can no longer download.
     */
    @Override
    public Pruning prune(int keep, Pruning.Mode mode, SigningKey key) {
        PrunePlan.checkKeep(keep); // before any request
        PrunePlan plan = PrunePlan.keepNewest(served(), keep);
        List<String> present = plan.files().stream().filter(f -> http.exists(servedRoot() + f)).toList();
        if (mode == Pruning.Mode.DRY_RUN || plan.empty()) {
            return Pruning.of(config.name(), keep, plan, present, false);
        }
        // binaries first: once they are gone nothing installs the release, whatever else a failure leaves
        List<String> order = new ArrayList<>(present.stream().filter(f -> f.startsWith("Packages/") && f.endsWith(".rpm")).toList());
        present.stream().filter(f -> !order.contains(f)).forEach(order::add);
        for (String path : order) {
            http.delete(servedRoot() + path);
        }
        afterChanges();
        awaitIndex(List.of(), plan.removed());
        return Pruning.of(config.name(), keep, plan, present, true);
    }

    /** Waits until the served primary.xml lists every one of {@code listed} and none of {@code unlisted}. */
    private void awaitIndex(List<Nevra> listed, List<Nevra> unlisted) {
        if (listed.isEmpty() && unlisted.isEmpty()) {
            return;
        }
        Instant deadline = clock.instant().plus(config.indexTimeout());
        long wait = 200;
        Set<String> missing = new HashSet<>();
        Set<String> stale = new HashSet<>();
        while (true) {
            missing.clear();
            stale.clear();
            listed.forEach(n -> missing.add(n.toString()));
            Set<String> gone = new HashSet<>();
            unlisted.forEach(n -> gone.add(n.toString()));
            for (ServedPrimary.Package p : served()) {
                missing.remove(p.nevra().toString());
                if (gone.contains(p.nevra().toString())) {
                    stale.add(p.nevra().toString());
                }
            }
            if (missing.isEmpty() && stale.isEmpty()) {
                return;
            }
            if (clock.instant().isAfter(deadline)) {
                throw KilnException.environment("target " + config.name() + (missing.isEmpty()
                        ? " deleted the files but its metadata still lists " + new java.util.TreeSet<>(stale) + " after "
                                + config.indexTimeout().toSeconds() + " s: dnf is still offered them"
                        : " took the upload but its metadata does not list " + new java.util.TreeSet<>(missing) + " after "
                                + config.indexTimeout().toSeconds() + " s: dnf cannot install it yet")
                        + "; check the repository's metadata settings, or raise index-timeout in kiln.yaml");
            }
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw KilnException.interrupted();
            }
            wait = Math.min(5000, wait * 2);
        }
    }

    @Override
    public Verification verify(SigningKey key) {
        List<Verification.Problem> problems = new ArrayList<>();
        List<ServedPrimary.Package> packages = served();
        RpmSigner signer = new RpmSigner(key);
        for (ServedPrimary.Package p : packages) {
            Path file = temp();
            try {
                if (!http.download(servedRoot() + p.href(), file)) {
                    problems.add(new Verification.Problem("missing", p.href(), "listed in the metadata"));
                    continue;
                }
                if ("sha256".equals(p.checksumType()) && !Sha256.hex(file).equals(p.checksum())) {
                    problems.add(new Verification.Problem("checksum", p.href(), "does not match its checksum in the metadata"));
                    continue;
                }
                if (!(signer.check(file) instanceof RpmSigner.Signature.ByThisKey)) {
                    problems.add(new Verification.Problem("package-signature", p.href(), "is not signed by key " + key.keyId()));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                delete(file);
            }
        }
        return new Verification(config.name(), packages.size(), 0, problems);
    }

    private boolean sameBytesThere(String path, Path local) {
        Path there = temp();
        try {
            if (!http.download(servedRoot() + path, there)) {
                return false;
            }
            if (Files.mismatch(there, local) != -1) {
                throw changedRelease(path);
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            delete(there);
        }
    }

    protected KilnException changedRelease(String path) {
        return KilnException.badInput("RPM " + path.substring(path.lastIndexOf('/') + 1) + " is already published on target "
                + config.name() + " with different content: a release must never be overwritten; bump the Release and rebuild");
    }

    /** Where a package goes: binary ones under {@code Packages/}, source ones under {@code SRPMS/}, as Kiln's own layout. */
    protected static String path(RpmFile rpm) {
        return dev.kiln.repo.DirectoryRepository.servedPath(rpm);
    }

    private Path temp() {
        try {
            return Files.createDirectories(cache).resolve(".transfer-" + UUID.randomUUID());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // a stray temporary file in the cache only
        }
    }

    /** The HTTP client every server target shares: no redirects followed (credentials stay with the host they are for). */
    static java.net.http.HttpClient client() {
        return java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
    }
}
