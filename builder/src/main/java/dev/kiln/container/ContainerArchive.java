package dev.kiln.container;

import dev.kiln.KilnException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
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

    /**
     * A tar of {@code files} (relative path -> bytes), owned by uid/gid 1000, with parent folders
     * and fixed times, so the same files give the same bytes.
     */
    public static byte[] pack(Map<String, byte[]> files) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            TreeMap<String, byte[]> sorted = new TreeMap<>(files);
            java.util.Set<String> dirs = new java.util.TreeSet<>();
            for (String name : sorted.keySet()) {
                String clean = checkRelative(name);
                for (int i = clean.indexOf('/'); i > 0; i = clean.indexOf('/', i + 1)) {
                    dirs.add(clean.substring(0, i) + "/");
                }
            }
            for (String dir : dirs) {
                TarArchiveEntry e = new TarArchiveEntry(dir);
                own(e, 0755);
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
            }
            for (Map.Entry<String, byte[]> f : sorted.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(checkRelative(f.getKey()));
                own(e, 0644);
                e.setSize(f.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void own(TarArchiveEntry e, int mode) {
        e.setIds(BUILD_UID, BUILD_UID);
        e.setNames("builder", "builder");
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
     * Extracts the tar that the engine returns for a folder (entries start with the folder's own
     * name) into {@code hostDir}: regular files only, refused whole if any entry is unsafe or the
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

    private static KilnException tooMuch(String what) {
        return KilnException.buildFailed("The build's output folder holds " + what
                + "; nothing was copied out: the build must leave only its RPMs there");
    }

    private static KilnException refused(String entry, String why) {
        return KilnException.buildFailed("Build output entry " + entry + " refused: " + why
                + "; the build must leave only regular files in its output folder");
    }

    private static void deleteTree(Path dir) {
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
