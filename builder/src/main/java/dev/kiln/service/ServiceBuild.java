package dev.kiln.service;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One build submitted to the service: what to build (named packages, or those changed since a
 * revision), at which commit (resolved from the submitted ref when it was submitted, so the build
 * is of exactly what the engineer saw), scratch or publish, by whom, and where it stands.
 * {@code attempt} counts the starts: a build running when the service stopped starts once more.
 */
public record ServiceBuild(long id, List<String> packages, Optional<String> changedSince, String ref, String commit,
        Mode mode, boolean acceptChanges, String submitter, State state, int attempt, Instant submitted,
        Optional<Instant> started, Optional<Instant> finished, Optional<Integer> exitCode, Optional<String> message,
        Optional<String> result, Optional<Bump> bump) {

    /**
     * A bump the service runs at the build's commit, as {@code kiln bump} would: edit, commit on
     * {@code bump/<pkg>-<to>} as the engineer who asked, push the branch, then build and guard it.
     */
    public record Bump(String to, List<String> dropPatches, java.util.Set<dev.kiln.pipeline.BumpRequest.Option> options,
            String authorName, String authorEmail) {

        public Bump {
            dropPatches = List.copyOf(dropPatches);
            options = options.isEmpty() ? java.util.EnumSet.noneOf(dev.kiln.pipeline.BumpRequest.Option.class)
                    : java.util.EnumSet.copyOf(options);
        }

        /** The request for {@code pkg}: a scratch build's bump publishes nothing. */
        public dev.kiln.pipeline.BumpRequest request(String pkg, Mode mode) {
            java.util.Set<dev.kiln.pipeline.BumpRequest.Option> all = java.util.EnumSet.noneOf(dev.kiln.pipeline.BumpRequest.Option.class);
            all.addAll(options);
            if (mode == Mode.SCRATCH) {
                all.add(dev.kiln.pipeline.BumpRequest.Option.NO_PUBLISH);
            }
            return new dev.kiln.pipeline.BumpRequest(pkg, to, dropPatches, all);
        }

        /**
         * The bump {@link #document} wrote, or a client sent:
         * {@code {"to": "1.1", "dropPatches": [], "options": ["AUTO_DROP"], "authorName", "authorEmail"}}.
         *
         * @throws KilnException BAD_INPUT for a missing field or an unknown option
         */
        public static Bump parse(tools.jackson.databind.JsonNode doc) {
            String to = doc.path("to").asString("");
            String name = doc.path("authorName").asString("");
            String email = doc.path("authorEmail").asString("");
            if (to.isBlank() || name.isBlank() || email.isBlank()) {
                throw dev.kiln.KilnException.badInput("a bump needs to, authorName and authorEmail (the Git author its commit is made as)");
            }
            List<String> drop = new java.util.ArrayList<>();
            doc.path("dropPatches").forEach(p -> drop.add(p.asString()));
            java.util.Set<dev.kiln.pipeline.BumpRequest.Option> options = java.util.EnumSet.noneOf(dev.kiln.pipeline.BumpRequest.Option.class);
            for (tools.jackson.databind.JsonNode o : doc.path("options")) {
                try {
                    options.add(dev.kiln.pipeline.BumpRequest.Option.valueOf(o.asString()));
                } catch (IllegalArgumentException e) {
                    throw dev.kiln.KilnException.badInput("bump option '" + o.asString() + "' is not one of "
                            + java.util.Arrays.toString(dev.kiln.pipeline.BumpRequest.Option.values()));
                }
            }
            return new Bump(to, drop, options, name, email);
        }

        Map<String, Object> document() {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("to", to);
            doc.put("dropPatches", dropPatches);
            doc.put("options", options.stream().map(Enum::name).toList());
            doc.put("authorName", authorName);
            doc.put("authorEmail", authorEmail);
            return doc;
        }
    }


    /** A scratch build is built and signed, kept with the build, and published nowhere. */
    public enum Mode {
        SCRATCH, PUBLISH;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** The scope a token needs to submit (or resubmit) a build of this mode. */
        public Scope needs() {
            return this == PUBLISH ? Scope.PUBLISH : Scope.BUILD;
        }
    }

    /** Where a build stands; the last three are final. */
    public enum State {
        QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public boolean ended() {
            return this == SUCCEEDED || this == FAILED || this == CANCELLED;
        }

        static State parse(String label) {
            return valueOf(label.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** How long it waited in the queue: until it started, or until now while queued. */
    public Duration waited(Instant now) {
        return Duration.between(submitted, started.orElse(finished.orElse(now)));
    }

    /** What the API says of it (no token, no secret: the submitter is the token's name). */
    public Map<String, Object> document(Instant now) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("id", id);
        doc.put("packages", packages);
        doc.put("changedSince", changedSince.orElse(null));
        doc.put("ref", ref);
        doc.put("commit", commit);
        doc.put("mode", mode.label());
        doc.put("acceptChanges", acceptChanges);
        doc.put("submitter", submitter);
        doc.put("state", state.label());
        doc.put("attempt", attempt);
        doc.put("submitted", submitted.toString());
        doc.put("started", started.map(Instant::toString).orElse(null));
        doc.put("finished", finished.map(Instant::toString).orElse(null));
        doc.put("waitMillis", waited(now).toMillis());
        doc.put("durationMillis", started.map(s -> Duration.between(s, finished.orElse(now)).toMillis()).orElse(null));
        doc.put("exitCode", exitCode.orElse(null));
        doc.put("message", message.orElse(null));
        doc.put("bump", bump.map(Bump::document).orElse(null));
        return doc;
    }
}
