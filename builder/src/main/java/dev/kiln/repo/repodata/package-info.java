/**
 * The YUM repodata format: each package's entries made from its RPM headers as createrepo_c makes
 * them, the documents written as gzip members so that adding packages never reads earlier ones
 * again, and repomd.xml. Pure format code over local files: no network, no locking, no signing.
 */
package dev.kiln.repo.repodata;
