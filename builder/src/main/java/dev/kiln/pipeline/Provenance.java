package dev.kiln.pipeline;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * SLSA v1 provenance of one package build, as an in-toto Statement v1: which RPMs came out
 * (subjects with their SHA-256), from what (the Git commit, the remote sources by SHA-512, the
 * builder image by id and toolchain digest), how (package, revision, command line, build key) and
 * when. Rendered as JSON with keys in a fixed order, so the same build renders the same bytes.
 *
 * <p>Field names follow <a href="https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md">in-toto
 * Statement v1</a> and <a href="https://slsa.dev/spec/v1.0/provenance">SLSA Provenance v1</a>:
 * {@code _type}, {@code subject[].name/digest}, {@code predicateType}, {@code predicate.buildDefinition
 * .buildType/externalParameters/internalParameters/resolvedDependencies}, {@code predicate.runDetails
 * .builder.id/version}, {@code runDetails.metadata.invocationId/startedOn/finishedOn}. The document is
 * not signed (no DSSE envelope) yet.
 *
 * @param packageName the package built ({@code hello})
 * @param revision the revision the user asked for ({@code --rev}), or null for the working tree
 * @param commit the Git commit the definitions were read from (40 hex digits)
 * @param dirty whether the working tree had uncommitted changes, so the commit does not describe the inputs exactly
 * @param sourceUri where the definitions live: the repository's origin URL, or {@code git+file://<root>}
 * @param command the command line as the user typed it ({@code kiln build hello --rev v1})
 * @param buildKey the build key of the inputs
 * @param builder the builder's name ({@code el9})
 * @param imageId the builder image id ({@code sha256:<hex>})
 * @param toolchain the builder's toolchain digest from its lock
 * @param remoteSources remote source file name to its SHA-512 hex
 * @param subjects the RPM files the build produced (binary and source)
 * @param invocationId the build record's folder name, which identifies this run
 * @param kilnVersion the version of Kiln that ran the build
 */
public record Provenance(String packageName, String revision, String commit, boolean dirty, String sourceUri,
        List<String> command, BuildKey buildKey, String builder, String imageId, String toolchain,
        Map<String, String> remoteSources, List<Path> subjects, String invocationId, Instant startedOn, Instant finishedOn,
        String kilnVersion) {

    public static final String STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
    public static final String PREDICATE_TYPE = "https://slsa.dev/provenance/v1";
    /** What a Kiln build is; bump the version when the meaning of the parameters changes. */
    public static final String BUILD_TYPE = "https://kiln.dev/rpmbuild/v1";
    /** The builder id's prefix; the Kiln version follows it. */
    public static final String BUILDER_ID = "https://kiln.dev/builder/kiln@";

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    public Provenance {
        Objects.requireNonNull(packageName, "packageName");
        Objects.requireNonNull(commit, "commit");
        Objects.requireNonNull(sourceUri, "sourceUri");
        Objects.requireNonNull(buildKey, "buildKey");
        Objects.requireNonNull(builder, "builder");
        Objects.requireNonNull(imageId, "imageId");
        Objects.requireNonNull(toolchain, "toolchain");
        Objects.requireNonNull(invocationId, "invocationId");
        Objects.requireNonNull(startedOn, "startedOn");
        Objects.requireNonNull(finishedOn, "finishedOn");
        Objects.requireNonNull(kilnVersion, "kilnVersion");
        command = List.copyOf(command);
        remoteSources = Map.copyOf(remoteSources);
        subjects = List.copyOf(subjects);
    }


    /** The statement as indented UTF-8 JSON, ending with a newline. */
    public byte[] render() {
        return (JSON.writeValueAsString(statement()) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The statement as nested ordered maps and lists, the shape {@link #render()} writes. */
    public Map<String, Object> statement() {
        Map<String, Object> statement = new LinkedHashMap<>();
        statement.put("_type", STATEMENT_TYPE);
        List<Map<String, Object>> subject = new ArrayList<>();
        for (Path rpm : subjects.stream().sorted(Comparator.comparing(p -> p.getFileName().toString())).toList()) {
            subject.add(descriptor(rpm.getFileName().toString(), null, Map.of("sha256", BuildRecord.sha256(rpm)), null));
        }
        statement.put("subject", subject);
        statement.put("predicateType", PREDICATE_TYPE);

        Map<String, Object> external = new LinkedHashMap<>();
        external.put("package", packageName);
        if (revision != null) {
            external.put("revision", revision);
        }
        external.put("commit", commit);
        external.put("dirty", dirty);
        external.put("command", command);
        Map<String, Object> internal = new LinkedHashMap<>();
        internal.put("buildKey", buildKey.value());
        internal.put("recipe", BuildKey.RECIPE);
        internal.put("builder", builder);

        List<Map<String, Object>> dependencies = new ArrayList<>();
        dependencies.add(descriptor(null, sourceUri, Map.of("gitCommit", commit), dirty ? Map.of("dirty", true) : null));
        new TreeMap<>(remoteSources).forEach((name, sha512) ->
                dependencies.add(descriptor(name, null, Map.of("sha512", sha512.toLowerCase(java.util.Locale.ROOT)), null)));
        dependencies.add(descriptor(builder, "docker-image://" + builder, Map.of("sha256", imageId.replaceFirst("^sha256:", "")),
                Map.of("toolchain", toolchain)));

        Map<String, Object> buildDefinition = new LinkedHashMap<>();
        buildDefinition.put("buildType", BUILD_TYPE);
        buildDefinition.put("externalParameters", external);
        buildDefinition.put("internalParameters", internal);
        buildDefinition.put("resolvedDependencies", dependencies);

        Map<String, Object> builderInfo = new LinkedHashMap<>();
        builderInfo.put("id", BUILDER_ID + kilnVersion);
        builderInfo.put("version", Map.of("kiln", kilnVersion));
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("invocationId", invocationId);
        metadata.put("startedOn", startedOn.toString());
        metadata.put("finishedOn", finishedOn.toString());
        Map<String, Object> runDetails = new LinkedHashMap<>();
        runDetails.put("builder", builderInfo);
        runDetails.put("metadata", metadata);

        Map<String, Object> predicate = new LinkedHashMap<>();
        predicate.put("buildDefinition", buildDefinition);
        predicate.put("runDetails", runDetails);
        statement.put("predicate", predicate);
        return statement;
    }

    /** An in-toto ResourceDescriptor; absent fields are left out, as the spec asks. */
    private static Map<String, Object> descriptor(String name, String uri, Map<String, String> digest, Map<String, Object> annotations) {
        Map<String, Object> d = new LinkedHashMap<>();
        if (name != null) {
            d.put("name", name);
        }
        if (uri != null) {
            d.put("uri", uri);
        }
        d.put("digest", new TreeMap<>(digest));
        if (annotations != null) {
            d.put("annotations", new TreeMap<>(annotations));
        }
        return d;
    }

}
