package dev.kiln.container;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.security.MessageDigest;

/**
 * A builder image that matches its lock: the image to run, the digests that identify it, the
 * base it was built on ({@code null} when unknown) and what it offers to BuildRequires.
 */
public record PinnedImage(String name, String imageId, String toolchainDigest, String contextDigest,
                          String baseImage, List<ProvidedCapability> provides) {

    public PinnedImage {
        provides = List.copyOf(provides);
    }

    /** sha256 over the capabilities in file order, one per line. */
    public String providesDigest() {
        MessageDigest sha = BuildContext.sha256();
        for (ProvidedCapability c : provides) {
            sha.update((c + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }
}
