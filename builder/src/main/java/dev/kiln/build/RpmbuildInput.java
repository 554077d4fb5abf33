package dev.kiln.build;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The tar stream that goes into a build container: an rpmbuild tree with the spec, local
 * sources, patches and verified remote sources, plus the script that runs rpmbuild. Entries
 * are owned by the container's unprivileged builder user (uid 1000).
 */
final class RpmbuildInput {

    static final String HOME = "/home/builder";
    private static final int BUILDER_UID = 1000;

    /**
     * Runs rpmbuild and collects the RPMs into ~/out. On failure it prints the rejected hunks of
     * patches that did not apply, so they appear in the build log.
     */
    static final String SCRIPT = """
            set -u
            cd "$HOME"
            set -- --define "_topdir $HOME/rpmbuild" --define "_buildhost kiln.build"
            if [ "${SOURCE_DATE_EPOCH:-0}" != 0 ]; then
              set -- "$@" --define "use_source_date_epoch_as_buildtime 1" --define "clamp_mtime_to_source_date_epoch 1"
            else
              unset SOURCE_DATE_EPOCH
            fi
            rpmbuild -ba "$@" rpmbuild/SPECS/*.spec
            rc=$?
            if [ $rc -ne 0 ]; then
              find rpmbuild/BUILD -name '*.rej' 2>/dev/null | while read -r rej; do
                echo "kiln: rejected hunk (${rej#rpmbuild/BUILD/}):"
                cat "$rej"
              done
              exit $rc
            fi
            mkdir -p out
            find rpmbuild/RPMS rpmbuild/SRPMS -name '*.rpm' -exec cp {} out/ \\;
            """;

    private RpmbuildInput() {
    }

    static byte[] tar(PackageInputs in, Map<String, Path> remoteSources) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            directory(tar, "rpmbuild/");
            directory(tar, "rpmbuild/SPECS/");
            directory(tar, "rpmbuild/SOURCES/");
            file(tar, "kiln-build.sh", SCRIPT.getBytes(StandardCharsets.UTF_8), 0644);
            file(tar, "rpmbuild/SPECS/" + in.packageName() + ".spec", in.specBytes(), 0644);
            for (Map.Entry<String, byte[]> e : in.localSources().entrySet()) {
                file(tar, "rpmbuild/SOURCES/" + e.getKey(), e.getValue(), 0644);
            }
            for (Map.Entry<String, byte[]> e : in.patches().entrySet()) {
                file(tar, "rpmbuild/SOURCES/" + e.getKey(), e.getValue(), 0644);
            }
            for (Map.Entry<String, Path> e : remoteSources.entrySet()) {
                TarArchiveEntry entry = entry("rpmbuild/SOURCES/" + e.getKey(), 0644);
                entry.setSize(Files.size(e.getValue()));
                tar.putArchiveEntry(entry);
                Files.copy(e.getValue(), tar);
                tar.closeArchiveEntry();
            }
            tar.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void directory(TarArchiveOutputStream tar, String name) throws IOException {
        TarArchiveEntry entry = entry(name, 0755);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] content, int mode) throws IOException {
        TarArchiveEntry entry = entry(name, mode);
        entry.setSize(content.length);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    private static TarArchiveEntry entry(String name, int mode) {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setMode((name.endsWith("/") ? TarArchiveEntry.DEFAULT_DIR_MODE & ~0777 : 0100000) | mode);
        entry.setIds(BUILDER_UID, BUILDER_UID);
        entry.setUserName("builder");
        entry.setGroupName("builder");
        entry.setModTime(0);
        return entry;
    }
}
