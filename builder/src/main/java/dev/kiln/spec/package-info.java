/**
 * Reading spec files: tags, sources, patches and BuildRequires, with the line each came from. Pure: text in, values out; no I/O beyond what it is handed.
 */
package dev.kiln.spec;
