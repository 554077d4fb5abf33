package dev.kiln.container;

import dev.kiln.KilnException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Tar streams to and from a container. In: files owned by the build user, so the non-root build
 * can write next to them. Out: only regular files below the requested folder; anything else a
 * build could plant (links, devices, paths climbing out) is refused before one byte lands on the host.
 */
public final class ContainerArchive {

    static final int BUILD_UID = 1000;

    private ContainerArchive() {
    }

    /** Who owns what a tar puts into a container. */
    record Owner(int id, String name) {
        /** The build user, so the non-root build can write next to its inputs. */
        static final Owner BUILDER = new Owner(BUILD_UID, "builder");
        /** root, for files a root step removes again from a folder it owns. */
        static final Owner ROOT = new Owner(0, "root");
    }

    /**
     * One file to put into a container: bytes at hand (a spec, a script) or a file on disk, which is
     * read only while the tar is sent, so a source or RPM of gigabytes never sits in memory.
     */
    public sealed interface Content {
        long size() throws IOException;

        void copyTo(OutputStream out) throws IOException;

        static Content of(byte[] bytes) {
            return new Bytes(bytes);
        }

        static Content of(Path file) {
            return new OnDisk(file);
        }

        record Bytes(byte[] bytes) implements Content {
            @Override
            public long size() {
                return bytes.length;
            }

            @Override
            public void copyTo(OutputStream out) throws IOException {
                out.write(bytes);
            }
        }

        record OnDisk(Path file) implements Content {
            @Override
            public long size() throws IOException {
                return Files.size(file);
            }

            @Override
            public void copyTo(OutputStream out) throws IOException {
                Files.copy(file, out);
            }
        }
    }

    /**
     * A tar of {@code files} (relative path -> bytes), owned by uid/gid 1000, with parent folders
     * and fixed times, so the same files give the same bytes. For small inputs (image contexts,
     * patch trials); {@link #stream} sends files of any size.
     */
    public static byte[] pack(Map<String, byte[]> files) {
        Map<String, Content> contents = new TreeMap<>();
        files.forEach((name, bytes) -> contents.put(name, Content.of(bytes)));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            write(checked(contents), Owner.BUILDER, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * The same tar as {@link #pack}, produced while it is read: files on disk are copied into the
     * stream as the engine takes it, so memory use does not grow with their size. Close the stream
     * when done (it stops the writer). Names are checked here, before anything is sent.
     */
    public static InputStream stream(Map<String, Content> files) {
        return stream(files, Owner.BUILDER);
    }

    static InputStream stream(Map<String, Content> files, Owner owner) {
        TreeMap<String, Content> sorted = checked(files);
        return new TarPipe(out -> write(sorted, owner, out));
    }

    private static TreeMap<String, Content> checked(Map<String, Content> files) {
        TreeMap<String, Content> sorted = new TreeMap<>();
        files.forEach((name, content) -> sorted.put(checkRelative(name), content));
        return sorted;
    }

    private static void write(TreeMap<String, Content> sorted, Owner owner, OutputStream out) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        java.util.Set<String> dirs = new java.util.TreeSet<>();
        for (String name : sorted.keySet()) {
            for (int i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
                dirs.add(name.substring(0, i) + "/");
            }
        }
        for (String dir : dirs) {
            TarArchiveEntry e = new TarArchiveEntry(dir);
            own(e, owner, 0755);
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
        }
        for (Map.Entry<String, Content> f : sorted.entrySet()) {
            TarArchiveEntry e = new TarArchiveEntry(f.getKey());
            own(e, owner, 0644);
            e.setSize(f.getValue().size());
            tar.putArchiveEntry(e);
            f.getValue().copyTo(tar);
            tar.closeArchiveEntry();
        }
        tar.finish();
        tar.flush();
    }

    private static void own(TarArchiveEntry e, Owner owner, int mode) {
        e.setIds(owner.id(), owner.id());
        e.setNames(owner.name(), owner.name());
        e.setMode(mode);
        e.setModTime(0L);
    }

    private static String checkRelative(String name) {
        String clean = name.replace('\\', '/');
        if (clean.isEmpty() || clean.startsWith("/") || List.of(clean.split("/")).contains("..")) {
            throw KilnException.badInput("File name " + name + " cannot go into a build container: use a relative path without ..");
        }
        return clean;
    }

    /**
     * Extracts the tar of a container's folder (entries start with the folder's own name, see
     * {@link BuildContainer.Exchange}) into {@code hostDir}: regular files only, refused whole if any entry is unsafe or the
     * output exceeds {@link ContainerLimits#OUTPUT_MAX_FILES} or {@link ContainerLimits#OUTPUT_MAX_BYTES}.
     * Returns the written files.
     */
    public static List<Path> extract(InputStream tarStream, Path hostDir) {
        Path staging;
        try {
            Files.createDirectories(hostDir);
            // Stage inside hostDir so the final move is a rename on the same file system.
            staging = Files.createTempDirectory(hostDir, ".kiln-out-");
        } catch (IOException e) {
            throw KilnException.environment("Cannot write to " + hostDir + ": " + e.getMessage());
        }
        try {
            List<String> written = new ArrayList<>();
            long bytes = 0;
            TarArchiveInputStream tar = new TarArchiveInputStream(tarStream);
            String top = null;
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                String name = e.getName();
                if (name.startsWith("/") || List.of(name.split("/")).contains("..")) {
                    throw refused(name, "its path leaves the output folder");
                }
                if (e.isSymbolicLink() || e.isLink()) {
                    throw refused(name, "it is a link to " + e.getLinkName());
                }
                // Decide by the type flag alone: commons-compress's isFile() also says true for fifos and devices.
                byte type = e.getLinkFlag();
                boolean directory = type == TarConstants.LF_DIR;
                boolean regular = type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM || type == TarConstants.LF_CONTIG;
                if (!directory && !regular) {
                    throw refused(name, "it is not a regular file (device, fifo or other)");
                }
                String stripped = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
                int slash = stripped.indexOf('/');
                String first = slash < 0 ? stripped : stripped.substring(0, slash);
                if (top == null) {
                    top = first;
                } else if (!top.equals(first)) {
                    throw refused(name, "it is outside the requested folder " + top);
                }
                if (slash < 0) {
                    continue; // the folder itself
                }
                String rel = stripped.substring(slash + 1);
                if (rel.isEmpty() || rel.equals(".")) {
                    continue;
                }
                Path target = staging.resolve(rel).normalize();
                if (!target.startsWith(staging)) {
                    throw refused(name, "its path leaves the output folder");
                }
                if (directory) {
                    Files.createDirectories(target);
                } else {
                    // Checked on the sizes the tar declares, before the file's bytes land on the host.
                    if (written.size() >= ContainerLimits.OUTPUT_MAX_FILES) {
                        throw tooMuch("more than " + ContainerLimits.OUTPUT_MAX_FILES + " files (the output file limit)");
                    }
                    bytes += e.getSize();
                    if (bytes > ContainerLimits.OUTPUT_MAX_BYTES) {
                        throw tooMuch("more than " + (ContainerLimits.OUTPUT_MAX_BYTES >> 30)
                                + " GiB (the output size limit), at " + name);
                    }
                    Files.createDirectories(target.getParent());
                    Files.copy(tar, target);
                    written.add(rel);
                }
            }
            List<Path> out = new ArrayList<>();
            for (String rel : written) {
                Path dest = hostDir.resolve(rel);
                Files.createDirectories(dest.getParent());
                Files.move(staging.resolve(rel), dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                out.add(dest);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("Reading the tar from the container failed", e);
        } finally {
            deleteTree(staging);
        }
    }

    static KilnException tooMuch(String what) {
        return KilnException.buildFailed("The build's output folder holds " + what
                + "; nothing was copied out: the build must leave only its RPMs there");
    }

    private static KilnException refused(String entry, String why) {
        return KilnException.buildFailed("Build output entry " + entry + " refused: " + why
                + "; the build must leave only regular files in its output folder");
    }

    /** Removes a folder and everything in it, as far as it can (for staging and temporary folders). */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // Best effort: a leftover staging folder is harmless and named .kiln-out-*.
                }
            });
        } catch (IOException ignored) {
            // As above.
        }
    }
}
