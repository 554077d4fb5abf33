package dev.kiln.pipeline;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The identity of a package build's inputs: a SHA-256 over everything that determines what the
 * build produces. Two builds with the same key are expected to produce the same packages, so the
 * planner can skip a package whose key is already published.
 *
 * <p>The digest is taken over this sequence, each item written as a field (an 8-byte big-endian
 * length, then the bytes; strings in UTF-8), so no two different inputs encode to the same bytes:
 * <ol>
 *   <li>{@code "kiln-buildkey"}, {@value #FORMAT} (the layout below; bump it when it changes)</li>
 *   <li>{@code "recipe"}, {@link #RECIPE} (how Kiln runs rpmbuild: the script and its defines)</li>
 *   <li>{@code "package"}, the package name</li>
 *   <li>{@code "spec"}, the spec file's bytes</li>
 *   <li>{@code "patches"}, their count, then per patch sorted by file name: name, bytes</li>
 *   <li>{@code "local-sources"}, their count, then per file sorted by name: name, bytes</li>
 *   <li>{@code "remote-sources"}, their count, then per source sorted by name: name, lower-case SHA-512 hex</li>
 *   <li>{@code "toolchain"}, the builder's toolchain digest (from its image lock)</li>
 *   <li>{@code "dependencies"}, their count, then per internal build dependency sorted by package
 *       name: name, that package's build key value</li>
 * </ol>
 * Names sort by {@link String#compareTo}. Patch order needs no encoding of its own: the spec,
 * which is hashed, names the patches and the order they apply in.
 *
 * <p>Deliberately left out: {@code SOURCE_DATE_EPOCH} (the commit time), which would change the
 * key on every commit although nothing that is built changed; the commit itself and whether the
 * tree is dirty (provenance records them); the builder image id, since an image rebuilt from the
 * same packages has the same toolchain digest and is accepted for the build.
 *
 * @param value {@code sha256:<64 lower-case hex digits>}
 */
public record BuildKey(String value) {

    /** How Kiln drives rpmbuild. Bump it whenever the build script or the defines it passes change. */
    public static final String RECIPE = "kiln-rpmbuild-1";
    /** The layout of the hashed fields described above. */
    public static final String FORMAT = "1";
    private static final Pattern VALUE = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern SHA512 = Pattern.compile("[0-9a-f]{128}");

    public BuildKey {
        Objects.requireNonNull(value, "value");
        if (!VALUE.matcher(value).matches()) {
            throw new IllegalArgumentException("not a build key: '" + value + "' (expected sha256:<64 hex digits>)");
        }
    }

    /**
     * The inputs of one package build as plain values.
     *
     * @param remoteSha512 remote source file name to its SHA-512 hex, as in {@code specs/<pkg>/sources}
     * @param dependencyKeys internal build dependency package name to its build key value
     */
    public record Inputs(String packageName, byte[] spec, Map<String, byte[]> patches, Map<String, byte[]> localSources,
            Map<String, String> remoteSha512, String toolchainDigest, Map<String, String> dependencyKeys) {

        public Inputs {
            Objects.requireNonNull(packageName, "packageName");
            Objects.requireNonNull(spec, "spec");
            Objects.requireNonNull(toolchainDigest, "toolchainDigest");
            patches = Map.copyOf(patches);
            localSources = Map.copyOf(localSources);
            remoteSha512 = Map.copyOf(remoteSha512);
            dependencyKeys = Map.copyOf(dependencyKeys);
        }
    }

    public static BuildKey of(String packageName, byte[] spec, Map<String, byte[]> patches, Map<String, byte[]> localSources,
            Map<String, String> remoteSha512, String toolchainDigest, Map<String, String> dependencyKeys) {
        return of(new Inputs(packageName, spec, patches, localSources, remoteSha512, toolchainDigest, dependencyKeys));
    }

    public static BuildKey of(Inputs in) {
        Digest d = new Digest();
        d.field("kiln-buildkey").field(FORMAT);
        d.field("recipe").field(RECIPE);
        d.field("package").field(in.packageName());
        d.field("spec").field(in.spec());
        d.field("patches").count(in.patches().size());
        new TreeMap<>(in.patches()).forEach((name, bytes) -> d.field(name).field(bytes));
        d.field("local-sources").count(in.localSources().size());
        new TreeMap<>(in.localSources()).forEach((name, bytes) -> d.field(name).field(bytes));
        d.field("remote-sources").count(in.remoteSha512().size());
        new TreeMap<>(in.remoteSha512()).forEach((name, sha512) -> {
            String hex = sha512.toLowerCase(java.util.Locale.ROOT);
            if (!SHA512.matcher(hex).matches()) {
                throw new IllegalArgumentException("remote source " + name + ": not a SHA-512 hex digest: '" + sha512 + "'");
            }
            d.field(name).field(hex);
        });
        d.field("toolchain").field(in.toolchainDigest());
        d.field("dependencies").count(in.dependencyKeys().size());
        new TreeMap<>(in.dependencyKeys()).forEach((name, key) -> d.field(name).field(new BuildKey(key).value()));
        return new BuildKey("sha256:" + HexFormat.of().formatHex(d.md.digest()));
    }

    /** The hex digits without the {@code sha256:} prefix. */
    public String hex() {
        return value.substring("sha256:".length());
    }

    @Override
    public String toString() {
        return value;
    }

    private static final class Digest {
        final MessageDigest md;

        Digest() {
            md = dev.kiln.Sha256.digest();
        }

        Digest field(String s) {
            return field(s.getBytes(StandardCharsets.UTF_8));
        }

        Digest field(byte[] bytes) {
            md.update(ByteBuffer.allocate(Long.BYTES).putLong(bytes.length).array());
            md.update(bytes);
            return this;
        }

        Digest count(int n) {
            return field(Integer.toString(n));
        }
    }
}
