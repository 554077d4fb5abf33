/**
 * The build pipeline: resolve inputs, run the stages (sources, container, sign, publish) and keep the build record. It calls the leaf packages; they never call it.
 */
package dev.kiln.pipeline;
