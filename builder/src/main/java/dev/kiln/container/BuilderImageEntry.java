package dev.kiln.container;

import java.time.Instant;

/** One builder image the engine holds, for {@code image list}: pinned means it matches its committed lock. */
public record BuilderImageEntry(String name, String imageId, Instant created, String contextDigest, boolean pinned) {
}
