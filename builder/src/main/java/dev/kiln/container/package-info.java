/**
 * The Docker engine through docker-java: starting an engine where none runs, making the base image, building and pinning builder images, one build container (tar in, run, logs, tar out, always removed), and per build an image with its internal build dependencies installed without their scriptlets.
 */
package dev.kiln.container;
