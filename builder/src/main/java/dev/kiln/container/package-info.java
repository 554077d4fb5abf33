/**
 * The Docker engine through docker-java: starting an engine where none runs, making the base image, building and pinning builder images, and one build container (tar in, run, logs, tar out, always removed), with the sweep that removes what killed runs left.
 */
package dev.kiln.container;
