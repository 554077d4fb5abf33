package dev.kiln.repo;

import dev.kiln.KilnException;
import dev.kiln.repo.repodata.ServedPrimary;
import dev.kiln.repo.repodata.ServedRepomd;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Brings the latest releases a target holds into a local repository that lacks them: what a build
 * that ships to a server target plans against. Another machine (a CI runner, a colleague) may have
 * published to the target since this machine last did; without its releases here, the release
 * guard would compare with an older release, and a build would redo a release the target already
 * holds, which the target then refuses as changed.
 *
 * <p>Only the newest release of each source package asked for comes over: its binary RPMs (each
 * checked against primary's checksum and the company key's signature, as dnf checks them) and
 * their provenance documents, which carry the build keys. They are published into the local
 * repository like any publish, all at once.
 */
public final class TargetReleases {

    private TargetReleases() {
    }

    /** What a pull brought: the binary packages added to the local repository. */
    public record Pulled(List<Nevra> added) {
        public Pulled {
            added = List.copyOf(added);
        }
    }

    /**
     * Publishes into {@code into} the newest release on {@code served} of each source package of
     * {@code sourceNames} whose binaries {@code into} does not list yet.
     *
     * @throws KilnException ENVIRONMENT when the target cannot be read, or serves a package whose
     *     checksum or signature does not verify
     */
    public static Pulled pull(ServedRepository served, DirectoryRepository into, Collection<String> sourceNames, SigningKey key) {
        try {
            Optional<byte[]> repomdBytes = served.read(RepositoryCheck.REPOMD_PATH);
            if (repomdBytes.isEmpty()) {
                return new Pulled(List.of()); // nothing published there yet
            }
            ServedRepomd.Document primaryDoc = ServedRepomd.read(repomdBytes.get()).document("primary")
                    .orElseThrow(() -> unreadable(served, RepositoryCheck.REPOMD_PATH, "names no primary document"));
            List<ServedPrimary.Package> listed;
            Path primary = fetchChecked(served, primaryDoc.href(), primaryDoc.checksumType(), primaryDoc.checksum());
            try (InputStream in = Files.newInputStream(primary)) {
                listed = ServedPrimary.read(in);
            } finally {
                Files.deleteIfExists(primary);
            }
            Set<Nevra> here = new HashSet<>(into.list());
            List<ServedPrimary.Package> missing = newest(listed, Set.copyOf(sourceNames)).stream().filter(p -> !here.contains(p.nevra())).toList();
            if (missing.isEmpty()) {
                return new Pulled(List.of());
            }
            List<Path> files = new ArrayList<>();
            Map<Path, byte[]> provenance = new LinkedHashMap<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(RepositoryCheck.PARALLEL)) {
                List<Future<Path>> downloads = new ArrayList<>();
                for (ServedPrimary.Package p : missing) {
                    downloads.add(pool.submit(() -> fetchSigned(served, p, key)));
                }
                for (int i = 0; i < missing.size(); i++) {
                    Path rpm = RepositoryCheck.result(downloads.get(i));
                    files.add(rpm);
                    served.read(missing.get(i).href() + DirectoryRepository.PROVENANCE_SUFFIX).ifPresent(doc -> provenance.put(rpm, doc));
                }
            }
            try {
                into.publish(files, provenance, key);
            } finally {
                for (Path f : files) {
                    Files.deleteIfExists(f);
                }
            }
            return new Pulled(missing.stream().map(ServedPrimary.Package::nevra).toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Of each source package named, the binaries of its newest release (by rpm's order of their versions). */
    static List<ServedPrimary.Package> newest(List<ServedPrimary.Package> listed, Set<String> sourceNames) {
        Map<String, Map<String, List<ServedPrimary.Package>>> bySourceThenRelease = new LinkedHashMap<>();
        for (ServedPrimary.Package p : listed) {
            if (p.nevra().arch().equals("src") || p.sourceRpm().isEmpty()) {
                continue;
            }
            String sourceRpm = p.sourceRpm().get();
            String name = sourceName(sourceRpm);
            if (name != null && sourceNames.contains(name)) {
                bySourceThenRelease.computeIfAbsent(name, n -> new LinkedHashMap<>()).computeIfAbsent(sourceRpm, s -> new ArrayList<>()).add(p);
            }
        }
        List<ServedPrimary.Package> out = new ArrayList<>();
        for (Map<String, List<ServedPrimary.Package>> releases : bySourceThenRelease.values()) {
            List<ServedPrimary.Package> best = null;
            for (List<ServedPrimary.Package> release : releases.values()) {
                if (best == null || PrunePlan.RPM_ORDER.compare(highest(release), highest(best)) > 0) {
                    best = release;
                }
            }
            out.addAll(best);
        }
        return out;
    }

    private static Nevra highest(List<ServedPrimary.Package> release) {
        return release.stream().map(ServedPrimary.Package::nevra).max(PrunePlan.RPM_ORDER).orElseThrow();
    }

    /** {@code hello} of {@code hello-1.0-1.src.rpm}, or null for a name of another form. */
    static String sourceName(String sourceRpm) {
        if (!sourceRpm.endsWith(".src.rpm")) {
            return null;
        }
        String nvr = sourceRpm.substring(0, sourceRpm.length() - ".src.rpm".length());
        int releaseDash = nvr.lastIndexOf('-');
        int versionDash = releaseDash <= 0 ? -1 : nvr.lastIndexOf('-', releaseDash - 1);
        return versionDash <= 0 ? null : nvr.substring(0, versionDash);
    }

    private static Path fetchSigned(ServedRepository served, ServedPrimary.Package p, SigningKey key) throws IOException {
        Path rpm = fetchChecked(served, p.href(), p.checksumType(), p.checksum());
        RpmSigner.Signature s;
        try {
            s = new RpmSigner(key).check(rpm);
        } catch (KilnException e) {
            Files.deleteIfExists(rpm);
            throw unreadable(served, p.href(), "cannot be read as an RPM (" + e.getMessage() + ")");
        }
        if (!(s instanceof RpmSigner.Signature.ByThisKey)) {
            Files.deleteIfExists(rpm);
            throw unreadable(served, p.href(), "is not signed by the company key " + key.keyId());
        }
        return rpm; // the local repository names it by its header, as the target did
    }

    private static Path fetchChecked(ServedRepository served, String href, String checksumType, String checksum) throws IOException {
        Path file = served.fetch(href).orElseThrow(() -> unreadable(served, href, "is missing (404) although the metadata names it"));
        if (!RepositoryCheck.matches(file, checksumType, checksum)) {
            Files.deleteIfExists(file);
            throw unreadable(served, href, "does not match its " + checksumType + " checksum in the metadata");
        }
        return file;
    }

    private static KilnException unreadable(ServedRepository served, String path, String what) {
        return KilnException.environment("target at " + served.url() + ": " + path + " " + what
                + ": run ./kiln repo check on that target, fix it, and build again");
    }
}
