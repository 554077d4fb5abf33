package dev.kiln.pipeline;

/** Where a build reports what it does: named stages, notices, and the live build log. */
public interface BuildListener {

    /** A stage starts, as in mock's "Start: rpmbuild". */
    void stage(String name);

    /** A notice a person should read (a key was created, an engine was started). */
    void notice(String message);

    /** One line of the build log, as it happens. */
    void log(String line);

    /**
     * Publishing to the release target {@code target} (its name in kiln.yaml) failed: the build's
     * packages did not reach it. The failure itself is thrown as well; this only tells who counts it.
     */
    default void publishFailed(String target) {
    }
}
