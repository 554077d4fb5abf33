package dev.kiln.service;

import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A push as GitHub's {@code push} webhook or GitLab's {@code Push Hook} tells it: the full ref
 * ({@code refs/heads/main}), the commit it named before and after (forty zeros: none, for a
 * branch made or deleted by the push), and who pushed, as {@code github:<pusher name>} or
 * {@code gitlab:<user_username>}.
 */
public record PushEvent(String ref, String before, String after, boolean deleted, String pusher) {

    /** The commit id Git hosts send for "no commit". */
    public static final String NO_COMMIT = "0000000000000000000000000000000000000000";
    private static final String BRANCHES = "refs/heads/";

    /** What a push asks of the service. */
    public sealed interface Plan {
        /** Build what changed since {@code since} (a commit or branch) at {@code commit}. */
        record Build(String branch, String since, String commit, ServiceBuild.Mode mode) implements Plan {
        }

        /** Nothing to build, and why. */
        record Nothing(String reason) implements Plan {
        }
    }

    /**
     * GitHub's push payload ({@code ref}, {@code before}, {@code after}, {@code deleted},
     * {@code pusher.name}).
     *
     * @return empty when a field is missing or is not a commit id
     */
    public static Optional<PushEvent> github(JsonNode payload) {
        return of(payload, payload.path("deleted").asBoolean(false), "github", payload.path("pusher").path("name").asString(""));
    }

    /**
     * GitLab's Push Hook payload ({@code ref}, {@code before}, {@code after}, {@code user_username});
     * GitLab has no deleted flag: it tells a deleted branch by {@code after} of forty zeros and a
     * {@code checkout_sha} of null.
     *
     * @return empty when a field is missing or is not a commit id
     */
    public static Optional<PushEvent> gitlab(JsonNode payload) {
        boolean deleted = payload.path("after").asString("").equals(NO_COMMIT)
                || (payload.has("checkout_sha") && payload.get("checkout_sha").isNull());
        return of(payload, deleted, "gitlab", payload.path("user_username").asString(""));
    }

    private static Optional<PushEvent> of(JsonNode payload, boolean deleted, String host, String name) {
        String ref = payload.path("ref").asString("");
        String before = payload.path("before").asString("");
        String after = payload.path("after").asString("");
        // the name becomes the submitter, which the queue's fairness, the audit log and the API show: a user name only
        if (ref.isEmpty() || !before.matches("[0-9a-f]{40}") || !after.matches("[0-9a-f]{40}")
                || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,99}")) {
            return Optional.empty();
        }
        return Optional.of(new PushEvent(ref, before, after, deleted || after.equals(NO_COMMIT), host + ":" + name));
    }

    /**
     * What to build for this push: what it changed, at the pushed commit, published when the
     * branch is {@code releaseBranch}, else scratch. A new branch builds what it changed against
     * the release branch; a deleted branch, a tag and the first push of the release branch itself
     * (nothing to compare with) build nothing.
     */
    public Plan plan(String releaseBranch) {
        if (!ref.startsWith(BRANCHES)) {
            return new Plan.Nothing(ref + " is not a branch: only pushes of branches build");
        }
        String branch = ref.substring(BRANCHES.length());
        if (deleted) {
            return new Plan.Nothing("branch " + branch + " was deleted");
        }
        ServiceBuild.Mode mode = branch.equals(releaseBranch) ? ServiceBuild.Mode.PUBLISH : ServiceBuild.Mode.SCRATCH;
        if (!before.equals(NO_COMMIT)) {
            return new Plan.Build(branch, before, after, mode);
        }
        if (mode == ServiceBuild.Mode.PUBLISH) {
            return new Plan.Nothing("branch " + branch + " is new, with nothing to compare it with: submit a build of its packages");
        }
        return new Plan.Build(branch, releaseBranch, after, mode);
    }
}
