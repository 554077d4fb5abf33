package dev.kiln.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Image;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Removes the build containers and dependency images of Kiln runs that ended without cleaning
 * up (killed with SIGKILL, out of memory, the machine's power): those whose owner label names a
 * process of this machine that no longer exists. Containers and images of live runs, of other
 * machines sharing the engine, and without an owner label (made by older versions) are left alone.
 */
final class OrphanSweep {

    private OrphanSweep() {
    }

    /** Sweeps once and says what it removed in one line (nothing when there was nothing). */
    static void run(DockerClient client, Consumer<String> say) {
        int containers = 0;
        int images = 0;
        try {
            for (Container c : client.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(BuildContainer.LABEL, "true")).exec()) {
                if (orphan(c.getLabels()) && removed(() -> client.removeContainerCmd(c.getId()).withForce(true)
                        .withRemoveVolumes(true).exec())) {
                    containers++;
                }
            }
            // After the containers: an image is removed only once no container uses it.
            for (Image i : client.listImagesCmd().withLabelFilter(Map.of(DependencyImage.LABEL, "true")).exec()) {
                if (orphan(i.getLabels()) && removed(() -> client.removeImageCmd(i.getId()).withForce(false).exec())) {
                    images++;
                }
            }
        } catch (RuntimeException e) {
            // Best effort: a sweep that cannot list now runs again with the next command.
        }
        if (containers + images > 0) {
            say.accept("removed " + count(containers, "build container") + " and " + count(images, "dependency image")
                    + " left behind by Kiln runs that were killed before they could clean up");
        }
    }

    private static boolean orphan(Map<String, String> labels) {
        return labels != null && RunOwner.parse(labels.get(RunOwner.LABEL)).map(RunOwner::gone).orElse(false);
    }

    private static boolean removed(Runnable removal) {
        try {
            removal.run();
            return true;
        } catch (DockerException e) {
            // Gone already (another run swept it), or an image a live run's container still uses.
            return false;
        }
    }

    private static String count(int n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }
}
