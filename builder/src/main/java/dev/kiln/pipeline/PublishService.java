package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.TargetConfig;
import dev.kiln.repo.Publication;
import dev.kiln.repo.PublishTarget;
import dev.kiln.repo.Targets;
import dev.kiln.rpm.RpmFile;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code kiln repo publish}: puts RPMs built elsewhere (a vendor's, a rebuild) on a target. Binary
 * RPMs must carry the company key's header signature; {@code --sign} signs copies with it first
 * (the given files are never changed).
 */
public final class PublishService {

    private final KilnConfig config;
    private final Map<String, String> env;
    private final BuildListener listener;

    public PublishService(KilnConfig config, Map<String, String> env, BuildListener listener) {
        this.config = config;
        this.env = env;
        this.listener = listener;
    }

    /** What a publish did, and the files it signed (copies) when asked to. */
    public record Result(TargetConfig target, Publication publication, List<String> signed, long millis) {
    }

    public Result publish(List<Path> rpms, Optional<String> targetName, boolean sign) {
        long started = System.nanoTime();
        if (rpms.isEmpty()) {
            throw KilnException.badInput("repo publish: name at least one RPM file");
        }
        TargetConfig targetConfig = config.target(targetName);
        List<RpmFile> files = rpms.stream().map(RpmFile::read).toList();
        SigningKey key = Keys.loadOrCreate(config.signing(), config.state(), listener);
        RpmSigner signer = new RpmSigner(key);
        Path scratch = null;
        try {
            List<Path> toPublish = new ArrayList<>();
            List<String> signed = new ArrayList<>();
            for (RpmFile rpm : files) {
                if (rpm.source()) {
                    toPublish.add(rpm.path());
                    continue;
                }
                RpmSigner.Signature signature = signer.check(rpm.path());
                if (signature instanceof RpmSigner.Signature.ByThisKey) {
                    toPublish.add(rpm.path());
                    continue;
                }
                if (!sign) {
                    throw KilnException.badInput("RPM " + rpm.path() + " is " + switch (signature) {
                        case RpmSigner.Signature.Unsigned u -> "not signed";
                        case RpmSigner.Signature.Other o when o.keyId().isEmpty() -> "signed, but the signature does not verify";
                        case RpmSigner.Signature.Other o -> "signed by key " + o.keyId() + ", not by the company key " + key.keyId();
                        case RpmSigner.Signature.ByThisKey b -> throw new IllegalStateException();
                    } + ": pass --sign to publish a copy signed with the company key");
                }
                if (scratch == null) {
                    scratch = Files.createTempDirectory(Files.createDirectories(config.state().resolve("tmp")), "publish-");
                }
                Path copy = Files.createDirectories(scratch.resolve(Integer.toString(toPublish.size()))).resolve(rpm.path().getFileName());
                Files.copy(rpm.path(), copy, StandardCopyOption.COPY_ATTRIBUTES);
                signer.sign(copy);
                signed.add(rpm.canonicalFileName());
                toPublish.add(copy);
            }
            listener.stage("Start: publish " + toPublish.size() + " file(s) to target " + targetConfig.name()
                    + " (" + targetConfig.describe() + ")");
            try (PublishTarget target = Targets.open(targetConfig, env, config.cache())) {
                target.check();
                Publication publication = target.publish(toPublish, Map.of(), key);
                long millis = (System.nanoTime() - started) / 1_000_000;
                listener.stage("Finish: publish (" + publication.added().size() + " added, " + publication.unchanged().size()
                        + " already there, " + millis + " ms)");
                return new Result(targetConfig, publication, signed, millis);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (scratch != null) {
                dev.kiln.container.ContainerArchive.deleteTree(scratch);
            }
        }
    }
}
