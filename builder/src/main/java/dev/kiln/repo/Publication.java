package dev.kiln.repo;

import java.util.List;

/**
 * What one publish did to one target.
 *
 * @param added the file names written (RPMs and provenance), empty when everything was there already
 * @param unchanged the file names that were already published with the same bytes
 * @param metadataChanged whether {@code repomd.xml} changed (it stays byte for byte when nothing is added)
 */
public record Publication(String target, List<String> added, List<String> unchanged, boolean metadataChanged) {

    public Publication {
        added = List.copyOf(added);
        unchanged = List.copyOf(unchanged);
    }

    /** The same result told of the target named {@code name}. */
    public Publication withTarget(String name) {
        return new Publication(name, added, unchanged, metadataChanged);
    }
}
