/**
 * The {@code sources} file (Fedora dist-git format), the content-addressed source cache, fetching and checksum verification. It does not know about containers or specs.
 */
package dev.kiln.source;
