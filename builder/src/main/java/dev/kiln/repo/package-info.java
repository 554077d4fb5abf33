/**
 * Publishing to a YUM/DNF repository: RPMs with their provenance documents, repodata with a detached signature and the public key, packages written once and the metadata folder swapped in atomically, replaced metadata kept for a grace period; finding a published build by its build key; serving it over HTTP; pruning old releases; replicating one target's repository to others byte for byte (sync); checking a target as its users' dnf reads it (the canary, with its metrics).
 */
package dev.kiln.repo;
