/**
 * Kiln as a service, for engineers who build without root, an engine or the signing key: its
 * embedded database (a file of the service's machine; PostgreSQL when configured), the API tokens
 * clients sign in with (stored hashed, with a scope and an expiry) and the append-only audit log of
 * who did what, the metrics it exports to Prometheus, the Git hosts' push hooks that queue builds,
 * the notification it sends when a build ends, and its web page (rendered on the server, signed in
 * with a session cookie). It holds no build logic: it calls the
 * build pipeline, and the CLI calls it.
 */
package dev.kiln.service;
