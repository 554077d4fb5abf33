package dev.kiln.repo;

import dev.kiln.Sha256;
import dev.kiln.repo.repodata.Repodata;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What {@code kiln repo verify} found on one target: every problem, each with its kind and path,
 * so one run reports all of them.
 *
 * @param packages how many packages the metadata lists
 */
public record Verification(String target, int packages, int metadataFiles, List<Problem> problems) {

    public Verification {
        problems = List.copyOf(problems);
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    /**
     * One thing wrong.
     *
     * @param kind {@code metadata-signature}, {@code missing}, {@code checksum}, {@code package-signature}
     *     or {@code not-kiln}
     */
    public record Problem(String kind, String path, String detail) {
    }

    /** Where a check reads a repository's files: a local copy of {@code path}, or empty when it is not there. */
    @FunctionalInterface
    public interface Files {
        Optional<Path> fetch(String path) throws IOException;
    }

    /**
     * Checks a repository Kiln writes: repomd.xml.asc is {@code key}'s signature over repomd.xml,
     * every document it names has its checksum, and every package the documents list is there with
     * its checksum and a header signature of {@code key} that verifies.
     */
    public static Verification check(String target, Files files, SigningKey key) throws IOException {
        List<Problem> problems = new ArrayList<>();
        Optional<Path> repomdFile = files.fetch("repodata/" + Repodata.REPOMD);
        if (repomdFile.isEmpty()) {
            return new Verification(target, 0, 0, List.of()); // nothing published yet
        }
        byte[] repomd = java.nio.file.Files.readAllBytes(repomdFile.get());
        Optional<Path> signature = files.fetch("repodata/" + Repodata.REPOMD_SIGNATURE);
        if (signature.isEmpty()) {
            problems.add(new Problem("metadata-signature", "repodata/" + Repodata.REPOMD_SIGNATURE, "missing"));
        } else if (!key.verifiesDetached(repomd, java.nio.file.Files.readAllBytes(signature.get()))) {
            problems.add(new Problem("metadata-signature", "repodata/" + Repodata.REPOMD_SIGNATURE,
                    "is not a valid signature of key " + key.keyId() + " over repomd.xml"));
        }
        var entries = Repodata.entries(repomd);
        if (entries.isEmpty()) {
            problems.add(new Problem("not-kiln", "repodata/" + Repodata.REPOMD, "was not written by Kiln: its packages are not checked"));
            return new Verification(target, 0, 0, problems);
        }
        Path folder = null;
        for (Repodata.Entry entry : entries.values()) {
            Optional<Path> file = files.fetch(entry.href());
            if (file.isEmpty()) {
                problems.add(new Problem("missing", entry.href(), "named by repomd.xml"));
            } else if (!Sha256.hex(file.get()).equals(entry.checksum())) {
                problems.add(new Problem("checksum", entry.href(), "does not match its checksum in repomd.xml"));
            } else {
                folder = file.get().getParent();
            }
        }
        if (!problems.isEmpty() && problems.stream().anyMatch(p -> p.path().contains("kiln-packages"))) {
            return new Verification(target, 0, entries.size(), problems);
        }
        List<Repodata.Listed> listed = Repodata.listed(folder, repomd);
        RpmSigner signer = new RpmSigner(key);
        for (Repodata.Listed p : listed) {
            Optional<Path> rpm = files.fetch(p.href());
            if (rpm.isEmpty()) {
                problems.add(new Problem("missing", p.href(), "listed in the metadata"));
                continue;
            }
            if (!Sha256.hex(rpm.get()).equals(p.pkgid())) {
                problems.add(new Problem("checksum", p.href(), "does not match its checksum in the metadata"));
                continue;
            }
            RpmSigner.Signature s = signer.check(rpm.get());
            if (!(s instanceof RpmSigner.Signature.ByThisKey)) {
                problems.add(new Problem("package-signature", p.href(), s instanceof RpmSigner.Signature.Other o && !o.keyId().isEmpty()
                        ? "signed by key " + o.keyId() + ", not " + key.keyId()
                        : s instanceof RpmSigner.Signature.Unsigned ? "not signed" : "its signature does not verify"));
            }
        }
        return new Verification(target, listed.size(), entries.size(), problems);
    }
}
