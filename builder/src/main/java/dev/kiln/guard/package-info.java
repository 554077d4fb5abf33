/**
 * Comparing a new release with the one already published, before it ships: which released build to
 * compare with, what moved, disappeared or was added, and whether that blocks the publish. It reads
 * RPM headers through {@code dev.kiln.rpm} and never publishes, deletes or talks to a repository itself.
 */
package dev.kiln.guard;
