package dev.kiln.container;

import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.exception.DockerClientException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.BuildResponseItem;
import dev.kiln.KilnException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A builder image with internal build dependencies installed: the freshly built (or released)
 * RPMs of packages from this repository that a spec BuildRequires. They are installed while the
 * image is built, so the package build itself still runs unprivileged, and they land in the rpm
 * database, so rpmbuild's own BuildRequires check inside sees them. Images are named by their
 * inputs (builder image and RPM bytes), so the same dependencies are installed once.
 */
public final class DependencyImage {

    static final String LABEL = "dev.kiln.dependencies";

    private DependencyImage() {
    }

    /** The labels of every dependency image: {@link #LABEL} and the owner run, as on build containers. */
    public static Map<String, String> labels() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(LABEL, "true");
        RunOwner.current().ifPresent(owner -> labels.put(RunOwner.LABEL, owner.label()));
        return labels;
    }

    /**
     * An image to build in: the builder image itself when there is nothing to install, else one
     * with {@code rpms} installed. Closing it removes an image this call made: the RPMs of each
     * build differ (signatures, build times), so keeping them would only fill the disk.
     */
    public record Handle(DockerEngine engine, String imageId, boolean made) implements AutoCloseable {
        @Override
        public void close() {
            if (made) {
                try {
                    engine.client().removeImageCmd(imageId).withForce(true).exec();
                } catch (RuntimeException e) {
                    // still in use by a parallel build of the same dependencies; that build removes it
                }
            }
        }
    }

    public static Handle prepare(DockerEngine engine, String builderImageId, Map<String, byte[]> rpms, Consumer<String> log) {
        if (rpms.isEmpty()) {
            return new Handle(engine, builderImageId, false);
        }
        boolean existed = exists(engine, rpms, builderImageId);
        String id = with(engine, builderImageId, rpms, log);
        return new Handle(engine, id, !existed);
    }

    private static boolean exists(DockerEngine engine, Map<String, byte[]> rpms, String builderImageId) {
        try {
            engine.client().inspectImageCmd("kiln/deps:" + digest(builderImageId, new TreeMap<>(rpms)).substring(0, 16)).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    /** The builder image itself when there is nothing to install. */
    static String with(DockerEngine engine, String builderImageId, Map<String, byte[]> rpms, Consumer<String> log) {
        if (rpms.isEmpty()) {
            return builderImageId;
        }
        Map<String, byte[]> sorted = new TreeMap<>(rpms);
        String digest = digest(builderImageId, sorted);
        String tag = "kiln/deps:" + digest.substring(0, 16);
        try {
            return engine.client().inspectImageCmd(tag).exec().getId();
        } catch (NotFoundException missing) {
            // built below
        }
        Map<String, byte[]> context = new LinkedHashMap<>();
        StringBuilder names = new StringBuilder();
        for (Map.Entry<String, byte[]> rpm : sorted.entrySet()) {
            context.put("rpms/" + rpm.getKey(), rpm.getValue());
            names.append(' ').append("/tmp/kiln-deps/").append(rpm.getKey());
        }
        // --nodeps: the runtime requires of these RPMs name libraries Debian provides outside the rpm database.
        context.put("Dockerfile", ("FROM " + builderImageId + "\n"
                + "USER 0\n"
                + "COPY rpms/ /tmp/kiln-deps/\n"
                + "RUN rpm --install --nodeps" + names + " && rm -rf /tmp/kiln-deps\n"
                + "USER 1000:1000\n"
                + "LABEL " + BuilderImage.LABEL_BUILDER + "=\"\" " + BuilderImage.LABEL_CONTEXT + "=\"\"\n").getBytes(StandardCharsets.UTF_8));
        log.accept("installing " + String.join(", ", sorted.keySet()) + " into " + tag);
        try {
            String id = engine.client().buildImageCmd(new ByteArrayInputStream(ContainerArchive.pack(context)))
                    .withTags(Set.of(tag))
                    .withLabels(labels())
                    .withPull(false).withRemove(true).withForcerm(true)
                    .exec(new BuildImageResultCallback() {
                        @Override
                        public void onNext(BuildResponseItem item) {
                            if (item.getStream() != null) {
                                item.getStream().lines().filter(l -> !l.isBlank()).forEach(log);
                            }
                            super.onNext(item);
                        }
                    }).awaitImageId();
            return engine.client().inspectImageCmd(id).exec().getId();
        } catch (DockerClientException e) {
            throw KilnException.buildFailed("installing the build dependencies " + sorted.keySet() + " failed: " + e.getMessage());
        }
    }

    private static String digest(String base, Map<String, byte[]> rpms) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(base.getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, byte[]> e : rpms.entrySet()) {
                sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update(MessageDigest.getInstance("SHA-256").digest(e.getValue()));
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
