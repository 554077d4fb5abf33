/**
 * kiln.yaml binding, with KILN_* environment variables and command-line options on top: one immutable record per concern.
 */
package dev.kiln.config;
