/**
 * Publishing to a YUM/DNF repository: RPMs, repodata with a detached signature and the public key, swapped in atomically; serving it over HTTP.
 */
package dev.kiln.repo;
