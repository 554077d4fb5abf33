/**
 * Spec files: {@link dev.kiln.specfile.EvaluatedSpec} reads what a build needs (tags, sources, patches,
 * BuildRequires); {@link dev.kiln.specfile.SpecDocument} keeps a spec losslessly and makes the edits
 * of {@code kiln bump} (version, release, dropped patches, changelog) touching only their lines.
 * Pure: text in, text out; no I/O beyond what it is handed, and it never runs rpm.
 */
package dev.kiln.specfile;
