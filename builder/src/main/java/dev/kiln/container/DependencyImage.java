package dev.kiln.container;

import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Capability;
import dev.kiln.ExitHook;
import dev.kiln.KilnException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A builder image with internal build dependencies installed: the freshly built (or released)
 * RPMs of packages from this repository that a spec BuildRequires. They land in the rpm
 * database, so rpmbuild's own BuildRequires check inside the build sees them.
 *
 * <p>The RPMs are packaged from this repository's specs, so nothing of theirs may run with more
 * than a build has. rpm installs them with every scriptlet and trigger switched off (their
 * files are all a build needs), in a container locked down like a build container (no network,
 * no privilege gain, the build's memory, process and time limits) that runs as root only so rpm
 * can write root-owned files, with just the capabilities that takes. The container is committed
 * to an image of this build alone, and removed in every path.
 *
 * <p>Each build gets its own image, never shared: two parallel builds with the same
 * dependencies cannot remove each other's image, and closing the handle removes it.
 */
public final class DependencyImage {

    static final String LABEL = "dev.kiln.dependencies";
    /** Repository of the images made here; the tag is the install container's id, unique per build. */
    static final String REPOSITORY = "kiln/deps";
    private static final String DEPS_DIR = "/tmp/kiln-deps";

    /**
     * What rpm needs as root to give installed files the owners and modes the package asks for,
     * and nothing else (no raw network, ptrace, mknod, kill, setuid/setgid, setfcap, ...); each
     * was found missing by installing a package with {@code %attr(0640,nobody,nogroup)} files in
     * a folder of that owner: CHOWN, or "chown failed" (files owned by another user or group);
     * FOWNER, or "chmod failed" (rpm sets mode and times after the chown, when root no longer
     * owns the file); DAC_OVERRIDE, or "open failed" (writing into a folder rpm has already
     * handed to another owner).
     */
    static final List<Capability> RPM_CAPABILITIES = List.of(Capability.CHOWN, Capability.FOWNER, Capability.DAC_OVERRIDE);

    /**
     * {@code --nodeps}: the runtime requires of these RPMs name libraries Debian provides outside
     * the rpm database. {@code --noscripts}: no %pre, %post, %pretrans, %posttrans (nor their
     * un-install kin). {@code --notriggers}: no triggers, including file triggers, which rpm
     * 4.18 switches with the same flags (it has no option of its own for them). {@code --nocaps}:
     * no file capabilities, which a build never needs and no-new-privileges would ignore anyway.
     * {@code --noplugins}: nothing beyond unpacking and recording the packages.
     */
    static final List<String> RPM_INSTALL = List.of("rpm", "--install", "--nodeps", "--noscripts", "--notriggers",
            "--nocaps", "--noplugins");

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
     * made for this build alone. Closing it removes an image this call made.
     */
    public static final class Handle implements AutoCloseable {
        private final DockerEngine engine;
        private final String imageId;
        private final boolean made;
        private final Consumer<String> log;
        private final ExitHook removal;

        private Handle(DockerEngine engine, String imageId, boolean made, Consumer<String> log) {
            this.engine = engine;
            this.imageId = imageId;
            this.made = made;
            this.log = log;
            // Ctrl-C during the build: the build container's own hook removes the container; this one the image.
            this.removal = made ? ExitHook.register("kiln-remove-image", this::remove) : null;
        }

        public String imageId() {
            return imageId;
        }

        @Override
        public void close() {
            if (removal != null) {
                removal.close();
            }
        }

        private void remove() {
            // At exit the build container's hook may still be removing the container that uses the image: try a few times.
            for (int attempt = 1; ; attempt++) {
                try {
                    engine.client().removeImageCmd(imageId).withForce(true).exec();
                    return;
                } catch (NotFoundException gone) {
                    return;
                } catch (ConflictException inUse) {
                    if (attempt == 5) {
                        warn("could not remove the build dependency image " + imageId + ": " + inUse.getMessage());
                        return;
                    }
                    try {
                        Thread.sleep(200L * attempt);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                } catch (RuntimeException e) {
                    warn("could not remove the build dependency image " + imageId + ": " + e.getMessage());
                    return;
                }
            }
        }

        /** Best effort: at exit the build log this goes to may be closed already. */
        private void warn(String message) {
            try {
                log.accept(message);
            } catch (RuntimeException closed) {
                System.err.println("kiln: " + message);
            }
        }
    }

    /**
     * Installs {@code rpms} (file name -> RPM on disk) into an image of its own made from
     * {@code builderImageId}, within {@code limits}; rpm's output goes to {@code log}.
     */
    public static Handle prepare(DockerEngine engine, String builderImageId, Map<String, Path> rpms, ContainerLimits limits,
            Consumer<String> log) {
        if (rpms.isEmpty()) {
            return new Handle(engine, builderImageId, false, log);
        }
        Map<String, Path> sorted = new TreeMap<>(rpms);
        Map<String, ContainerArchive.Content> files = new LinkedHashMap<>();
        sorted.forEach((name, path) -> files.put("kiln-deps/" + name, ContainerArchive.Content.of(path)));
        // Owned by root: the root step removes them again, and root holds no right over another user's files here.
        try (BuildContainer installer = installer(engine, builderImageId, sorted, limits)) {
            String tag = installer.id().substring(0, 12);
            log.accept("installing " + String.join(", ", sorted.keySet()) + " into " + REPOSITORY + ":" + tag
                    + " (without their scriptlets and triggers)");
            int exit = installer.run(files, ContainerArchive.Owner.ROOT, log);
            if (exit != 0) {
                throw KilnException.buildFailed("installing the build dependencies " + sorted.keySet() + " failed (rpm exit "
                        + exit + "); see the lines above in the build log");
            }
            var builder = engine.client().inspectImageCmd(builderImageId).exec().getConfig();
            Map<String, String> labels = new LinkedHashMap<>(BuildContainer.labels(engine));
            labels.putAll(labels());
            // Inherited from the builder image, but this image is no builder: blank them, as BuilderImage reads them.
            labels.put(BuilderImage.LABEL_BUILDER, "");
            labels.put(BuilderImage.LABEL_CONTEXT, "");
            var commit = engine.client().commitCmd(installer.id())
                    .withRepository(REPOSITORY).withTag(tag)
                    .withUser(BuildContainer.USER)
                    .withLabels(labels);
            if (builder != null && builder.getCmd() != null) {
                // Else the image would keep the rpm command as its default command.
                commit.withCmd(builder.getCmd());
            }
            String id = commit.exec();
            return new Handle(engine, id, true, log);
        }
    }

    /**
     * The install container, created but not started: builder image, root with {@link #RPM_CAPABILITIES},
     * otherwise the lockdown and limits of a build container, running {@link #RPM_INSTALL} on the RPMs
     * below {@value #DEPS_DIR} and removing them afterwards, so they are not part of the image.
     */
    static BuildContainer installer(DockerEngine engine, String builderImageId, Map<String, Path> rpms, ContainerLimits limits) {
        List<String> command = new ArrayList<>(List.of("sh", "-c", "\"$@\" && rm -rf " + DEPS_DIR, "rpm-install"));
        command.addAll(RPM_INSTALL);
        new TreeMap<>(rpms).keySet().forEach(name -> command.add(DEPS_DIR + "/" + name));
        return BuildContainer.create(engine, builderImageId, limits, command, Map.of(),
                Optional.of(BuildContainer.Exchange.into("/tmp")), new BuildContainer.RunAs("0:0", RPM_CAPABILITIES));
    }
}
