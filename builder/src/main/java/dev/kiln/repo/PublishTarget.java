package dev.kiln.repo;

import dev.kiln.config.TargetConfig;
import dev.kiln.rpm.Nevra;
import dev.kiln.rpm.SigningKey;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A place builds are published to, one class per kind ({@link DirectoryTarget},
 * {@link dev.kiln.repo.http.WebDavTarget}), made by {@link Targets} from {@code kiln.yaml}. Callers
 * never name a kind: they check, publish and list through this interface.
 *
 * <p>A publish is all or nothing for clients: until it returns, dnf reads the repository as it was;
 * after, it reads every package of the call. A release is immutable: an RPM or provenance document
 * already published with other bytes is refused before anything is written.
 */
public interface PublishTarget extends AutoCloseable {

    /** The entry of kiln.yaml this target was made from. */
    TargetConfig config();

    /** Where dnf reads the repository: the {@code baseurl} to give it. */
    URI baseUrl();

    /**
     * Checks, before any build work, that a publish could reach and write the target.
     *
     * @throws dev.kiln.KilnException ENVIRONMENT when it cannot be reached or refuses the credentials,
     *     BAD_INPUT when it is misconfigured
     */
    void check();

    /**
     * Publishes signed binary RPMs (indexed) and source RPMs (kept beside them), each with its
     * provenance document when {@code provenance} has one.
     *
     * @param key signs the repository metadata where Kiln writes it
     */
    Publication publish(List<Path> rpms, Map<Path, byte[]> provenance, SigningKey key);

    /**
     * Checks every checksum and signature of what is published ({@link Verification#check}),
     * reading every package: the cost of a full download for a server target.
     */
    Verification verify(SigningKey key);

    /**
     * Removes old releases: for each package name and architecture all but the {@code keep} newest
     * by rpm's version order ({@link PrunePlan#keepNewest}; the latest is never removed), with their
     * source RPMs and provenance documents. Atomic like a publish: until it returns clients read the
     * repository as it was, after it they read it without the removed releases; a second prune with
     * the same {@code keep} changes nothing. With {@link Pruning.Mode#DRY_RUN} it only says what
     * would go.
     *
     * @param key signs the repository metadata where Kiln writes it
     * @throws dev.kiln.KilnException BAD_INPUT when {@code keep} is below 1, before anything is read
     */
    Pruning prune(int keep, Pruning.Mode mode, SigningKey key);

    /** The published binary packages, sorted by NEVRA string. */
    List<Nevra> list();

    @Override
    default void close() {
    }

    /**
     * Reads the headers of {@code rpms}, refusing a binary RPM without a signature (dnf checks with
     * gpgcheck=1): the first check of every kind's publish, before anything is written.
     */
    static List<dev.kiln.rpm.RpmFile> readSigned(List<Path> rpms) {
        List<dev.kiln.rpm.RpmFile> incoming = rpms.stream().map(dev.kiln.rpm.RpmFile::read).toList();
        for (dev.kiln.rpm.RpmFile rpm : incoming) {
            if (!rpm.source() && !rpm.signed()) {
                throw dev.kiln.KilnException.badInput("RPM " + rpm.path() + " is not signed: sign it before publishing "
                        + "(dnf checks with gpgcheck=1)");
            }
        }
        return incoming;
    }
}
