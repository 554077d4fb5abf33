/**
 * JGit access to the definitions repository: the bytes of a package's files in the working tree or at a revision, the commit id and dirty state. It never checks anything out.
 */
package dev.kiln.git;
