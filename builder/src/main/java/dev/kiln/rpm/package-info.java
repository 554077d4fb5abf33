/**
 * RPM files and OpenPGP keys: reading RPM headers, signing RPMs with an RSA/SHA-256 header signature, generating and loading signing keys. It never talks to a container.
 */
package dev.kiln.rpm;
