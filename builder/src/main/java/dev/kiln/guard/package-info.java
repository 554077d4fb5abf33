/**
 * Comparing a new release with the one already published, before it ships.
 */
package dev.kiln.guard;
