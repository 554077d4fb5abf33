package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class BuildKeyTest {

    private static final String SHA_A = "a".repeat(128);
    private static final String SHA_B = "b".repeat(128);
    private static final String DEP_KEY = "sha256:" + "c".repeat(64);

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static BuildKey.Inputs base() {
        Map<String, byte[]> patches = new LinkedHashMap<>();
        patches.put("hello-greeting.patch", b("--- a\n+++ b\n"));
        patches.put("hello-exit.patch", b("--- c\n+++ d\n"));
        Map<String, byte[]> local = new LinkedHashMap<>();
        local.put("hello.conf", b("greeting=hi\n"));
        local.put("hello.sh", b("#!/bin/sh\n"));
        Map<String, String> remote = new LinkedHashMap<>();
        remote.put("hello-1.0.tar.gz", SHA_A);
        remote.put("extra-2.0.tar.gz", SHA_B);
        Map<String, String> deps = new LinkedHashMap<>();
        deps.put("libgreet", DEP_KEY);
        deps.put("libexit", "sha256:" + "d".repeat(64));
        return new BuildKey.Inputs("hello", b("Name: hello\n"), patches, local, remote, "sha256:toolchain-1", deps);
    }

    @Test
    void isASha256ValueWithPrefix() {
        assertThat(BuildKey.of(base()).value()).matches("sha256:[0-9a-f]{64}");
    }

    @Test
    void pinsTheDocumentedEncoding() {
        // Changing the encoding changes every key and rebuilds everything: do it on purpose, bump FORMAT, update this value.
        BuildKey key = BuildKey.of("p", b("s"), Map.of("x.patch", b("1")), Map.of(), Map.of("t.tar", SHA_A), "tc", Map.of());
        assertThat(key.value()).isEqualTo(GOLDEN);
    }

    // Computed independently from the Javadoc's description with Python's hashlib (struct.pack(">q", len) + bytes per field).
    static final String GOLDEN = "sha256:146330d69858228cbe08ff8d9b52721557d2cffb7fac40d9cadfa6ba7d43ec6f";

    @Test
    void isStableAcrossMapOrders() {
        BuildKey.Inputs in = base();
        BuildKey.Inputs reversed = new BuildKey.Inputs(in.packageName(), in.spec(), reverse(in.patches()), reverse(in.localSources()),
                reverse(in.remoteSha512()), in.toolchainDigest(), reverse(in.dependencyKeys()));
        assertThat(BuildKey.of(reversed)).isEqualTo(BuildKey.of(in));
        // Map.copyOf iteration order varies between runs; the key must not.
        for (int i = 0; i < 20; i++) {
            assertThat(BuildKey.of(base())).isEqualTo(BuildKey.of(in));
        }
    }

    @Test
    void upperCaseSha512GivesTheSameKey() {
        BuildKey.Inputs in = base();
        Map<String, String> upper = new LinkedHashMap<>();
        in.remoteSha512().forEach((k, v) -> upper.put(k, v.toUpperCase()));
        assertThat(BuildKey.of(with(in, upper))).isEqualTo(BuildKey.of(in));
    }

    private static BuildKey.Inputs with(BuildKey.Inputs in, Map<String, String> remote) {
        return new BuildKey.Inputs(in.packageName(), in.spec(), in.patches(), in.localSources(), remote, in.toolchainDigest(),
                in.dependencyKeys());
    }

    private static <V> Map<String, V> reverse(Map<String, V> map) {
        List<String> keys = new java.util.ArrayList<>(map.keySet());
        keys.sort(java.util.Comparator.reverseOrder());
        Map<String, V> out = new LinkedHashMap<>();
        keys.forEach(k -> out.put(k, map.get(k)));
        return out;
    }

    @Test
    void changesWhenAnyInputChanges() {
        BuildKey.Inputs in = base();
        BuildKey original = BuildKey.of(in);
        Map<String, UnaryOperator<BuildKey.Inputs>> changes = new LinkedHashMap<>();
        changes.put("package name", i -> new BuildKey.Inputs("hello2", i.spec(), i.patches(), i.localSources(), i.remoteSha512(),
                i.toolchainDigest(), i.dependencyKeys()));
        changes.put("spec byte", i -> new BuildKey.Inputs(i.packageName(), b("Name: hello \n"), i.patches(), i.localSources(),
                i.remoteSha512(), i.toolchainDigest(), i.dependencyKeys()));
        changes.put("patch bytes", i -> new BuildKey.Inputs(i.packageName(), i.spec(), put(i.patches(), "hello-exit.patch", b("x")),
                i.localSources(), i.remoteSha512(), i.toolchainDigest(), i.dependencyKeys()));
        changes.put("patch renamed", i -> new BuildKey.Inputs(i.packageName(), i.spec(),
                rename(i.patches(), "hello-exit.patch", "hello-exit2.patch"), i.localSources(), i.remoteSha512(), i.toolchainDigest(),
                i.dependencyKeys()));
        changes.put("patch added", i -> new BuildKey.Inputs(i.packageName(), i.spec(), put(i.patches(), "new.patch", b("")),
                i.localSources(), i.remoteSha512(), i.toolchainDigest(), i.dependencyKeys()));
        changes.put("local source bytes", i -> new BuildKey.Inputs(i.packageName(), i.spec(), i.patches(),
                put(i.localSources(), "hello.conf", b("greeting=ho\n")), i.remoteSha512(), i.toolchainDigest(), i.dependencyKeys()));
        changes.put("local source removed", i -> new BuildKey.Inputs(i.packageName(), i.spec(), i.patches(),
                remove(i.localSources(), "hello.sh"), i.remoteSha512(), i.toolchainDigest(), i.dependencyKeys()));
        changes.put("remote checksum", i -> with(i, put(i.remoteSha512(), "hello-1.0.tar.gz", SHA_B)));
        changes.put("remote renamed", i -> with(i, rename(i.remoteSha512(), "hello-1.0.tar.gz", "hello-1.1.tar.gz")));
        changes.put("toolchain", i -> new BuildKey.Inputs(i.packageName(), i.spec(), i.patches(), i.localSources(), i.remoteSha512(),
                "sha256:toolchain-2", i.dependencyKeys()));
        changes.put("dependency key", i -> new BuildKey.Inputs(i.packageName(), i.spec(), i.patches(), i.localSources(),
                i.remoteSha512(), i.toolchainDigest(), put(i.dependencyKeys(), "libgreet", "sha256:" + "e".repeat(64))));
        changes.put("dependency added", i -> new BuildKey.Inputs(i.packageName(), i.spec(), i.patches(), i.localSources(),
                i.remoteSha512(), i.toolchainDigest(), put(i.dependencyKeys(), "libz", DEP_KEY)));
        changes.put("a local source moved to the patches", i -> new BuildKey.Inputs(i.packageName(), i.spec(),
                put(i.patches(), "hello.sh", i.localSources().get("hello.sh")), remove(i.localSources(), "hello.sh"), i.remoteSha512(),
                i.toolchainDigest(), i.dependencyKeys()));
        Map<String, BuildKey> seen = new LinkedHashMap<>();
        seen.put("original", original);
        changes.forEach((what, change) -> {
            BuildKey changed = BuildKey.of(change.apply(in));
            assertThat(seen.values()).as(what).doesNotContain(changed);
            seen.put(what, changed);
        });
    }

    @Test
    void fieldBoundariesCannotBeShifted() {
        BuildKey one = BuildKey.of("p", b("s"), Map.of("ab", b("c")), Map.of(), Map.of(), "t", Map.of());
        BuildKey two = BuildKey.of("p", b("s"), Map.of("a", b("bc")), Map.of(), Map.of(), "t", Map.of());
        assertThat(one).isNotEqualTo(two);
    }

    @Test
    void refusesMalformedValues() {
        assertThatThrownBy(() -> new BuildKey("sha256:xyz")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BuildKey.of("p", b("s"), Map.of(), Map.of(), Map.of("t.tar", "abc"), "t", Map.of()))
                .hasMessageContaining("t.tar");
        assertThatThrownBy(() -> BuildKey.of("p", b("s"), Map.of(), Map.of(), Map.of(), "t", Map.of("dep", "md5:1")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static <V> Map<String, V> put(Map<String, V> map, String k, V v) {
        Map<String, V> out = new LinkedHashMap<>(map);
        out.put(k, v);
        return out;
    }

    private static <V> Map<String, V> remove(Map<String, V> map, String k) {
        Map<String, V> out = new LinkedHashMap<>(map);
        out.remove(k);
        return out;
    }

    private static <V> Map<String, V> rename(Map<String, V> map, String from, String to) {
        Map<String, V> out = new LinkedHashMap<>(map);
        out.put(to, out.remove(from));
        return out;
    }
}
