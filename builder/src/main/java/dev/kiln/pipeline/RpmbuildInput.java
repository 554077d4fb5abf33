package dev.kiln.pipeline;

import dev.kiln.container.ContainerArchive;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tar stream that goes into a build container: an rpmbuild tree with the spec, local
 * sources, patches and verified remote sources, plus the script that runs rpmbuild.
 */
final class RpmbuildInput {

    static final String HOME = "/home/builder";
    /** Where the builder's macro file ({@code containers/<builder>/macros}) goes in every container that runs rpm. */
    static final String MACROS = "kiln-macros";

    /**
     * The options of every rpm call Kiln makes in a builder, reading a spec or building it, as
     * {@code "$@"}: the same tree, the builder's macro file first (so the command line wins over
     * it), and the rebuild {@code %dist} when there is one.
     */
    static final String RPM_OPTIONS = """
            set -- --define "_topdir $HOME/rpmbuild" --define "_buildhost kiln.build"
            if [ -f "$HOME/kiln-macros" ]; then set -- --load "$HOME/kiln-macros" "$@"; fi
            if [ -n "${KILN_DIST:-}" ]; then set -- "$@" --define "dist $KILN_DIST"; fi
            """;

    /**
     * Runs rpmbuild and collects the RPMs into ~/out. On failure it prints the rejected hunks of
     * patches that did not apply, so they appear in the build log.
     */
    static final String SCRIPT = """
            set -u
            cd "$HOME"
            """ + RPM_OPTIONS + """
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

    /**
     * The files (path below {@link #HOME} -> content): remote sources are read from the cache while
     * they are sent, so a source larger than the heap goes in as well.
     */
    static Map<String, ContainerArchive.Content> files(PackageInputs in, Map<String, Path> remoteSources) {
        Map<String, ContainerArchive.Content> files = new LinkedHashMap<>();
        files.put("kiln-build.sh", ContainerArchive.Content.of(SCRIPT.getBytes(StandardCharsets.UTF_8)));
        byte[] macros = in.builderContext().get(BuilderSession.MACROS_FILE);
        if (macros != null) {
            files.put(MACROS, ContainerArchive.Content.of(macros));
        }
        files.put("rpmbuild/SPECS/" + in.packageName() + ".spec", ContainerArchive.Content.of(in.specBytes()));
        in.localSources().forEach((name, bytes) -> files.put("rpmbuild/SOURCES/" + name, ContainerArchive.Content.of(bytes)));
        in.patches().forEach((name, bytes) -> files.put("rpmbuild/SOURCES/" + name, ContainerArchive.Content.of(bytes)));
        remoteSources.forEach((name, path) -> files.put("rpmbuild/SOURCES/" + name, ContainerArchive.Content.of(path)));
        return files;
    }
}
