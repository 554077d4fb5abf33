package dev.kiln.specfile;

/**
 * What the builder's rpm printed when it read one spec: the exit code of the first call that
 * failed (0 when both succeeded), the spec as rpm expanded it ({@code rpmspec -P}), the source
 * package query ({@link EvaluatedSpec#SOURCE_QUERY}) and what rpm wrote to stderr.
 */
public record RpmOutput(int exit, String parsed, String source, String errors) {

    public RpmOutput {
        parsed = parsed == null ? "" : parsed;
        source = source == null ? "" : source;
        errors = errors == null ? "" : errors;
    }
}
