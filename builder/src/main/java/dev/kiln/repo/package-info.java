/**
 * Publishing to a YUM/DNF repository: RPMs with their provenance documents, repodata with a detached signature and the public key, swapped in atomically, with snapshots leased by the processes reading them and replaced metadata kept for a grace period; finding a published build by its build key; serving it over HTTP; checking a target as its users' dnf reads it (the canary, with its metrics).
 */
package dev.kiln.repo;
