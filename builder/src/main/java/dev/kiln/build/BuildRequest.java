package dev.kiln.build;

import java.util.List;

/**
 * What to build: packages by name, from the working tree ({@code rev} null) or a revision,
 * whether to publish the signed result, and whether a person accepted what the release guard
 * would block.
 */
public record BuildRequest(List<String> packages, String rev, boolean publish, boolean acceptChanges) {
}
