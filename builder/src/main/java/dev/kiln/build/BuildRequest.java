package dev.kiln.build;

import java.util.List;

/**
 * What to build: packages by name, from the working tree ({@code rev} null) or a revision, and
 * whether to publish the signed result.
 */
public record BuildRequest(List<String> packages, String rev, boolean publish) {
}
