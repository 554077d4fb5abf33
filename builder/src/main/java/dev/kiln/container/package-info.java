/**
 * The Docker engine through docker-java: starting an engine where none runs, making the base image, building and pinning builder images, one build container (tar in, run, logs, tar out, always removed), per build an image with its internal build dependencies installed without their scriptlets, and the sweep that removes what killed runs left.
 */
package dev.kiln.container;
