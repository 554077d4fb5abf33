/**
 * Spring Shell commands: parse options, call one service, render progress, JSON and the exit code. No logic of its own.
 */
package dev.kiln.cli;
