package dev.kiln.container;

import com.github.dockerjava.api.exception.NotFoundException;
import java.util.Map;

/** Leftovers of a Kiln run that was killed before it could clean up, made on purpose, for the tests of the sweep. */
public final class Orphans {

    private Orphans() {
    }

    /**
     * A created build container labelled as made by a run that is gone: this process's pid with
     * another start time, as a pid that was reused after a SIGKILL looks.
     */
    public static String container() {
        RunOwner self = RunOwner.current().orElseThrow(() -> new IllegalStateException("/proc does not say who this process is"));
        RunOwner gone = new RunOwner(self.boot(), self.pidNamespace(), self.pid(), self.started() + 1);
        return TestEngine.engine().client().createContainerCmd(TestEngine.base()).withCmd("true")
                .withLabels(Map.of(BuildContainer.LABEL, "true", RunOwner.LABEL, gone.label())).exec().getId();
    }

    /** Whether the engine still has container {@code id}. */
    public static boolean exists(String id) {
        try {
            TestEngine.engine().client().inspectContainerCmd(id).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }
}
