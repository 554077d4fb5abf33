package dev.kiln.container;

import dev.kiln.KilnException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ContainerArchiveTest {

    @TempDir
    Path out;

    @Test
    void packsFilesOwnedByTheBuildUserWithTheirFolders() throws IOException {
        byte[] tar = ContainerArchive.pack(Map.of("rpmbuild/SPECS/a.spec", "x".getBytes(StandardCharsets.UTF_8)));
        List<String> seen = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                assertThat(e.getLongUserId()).isEqualTo(1000);
                assertThat(e.getLongGroupId()).isEqualTo(1000);
                seen.add(e.getName());
            }
        }
        assertThat(seen).containsExactly("rpmbuild/", "rpmbuild/SPECS/", "rpmbuild/SPECS/a.spec");
    }

    @Test
    void packingTheSameFilesGivesTheSameBytes() {
        Map<String, byte[]> files = Map.of("b", new byte[] {1}, "a/c", new byte[] {2});
        assertThat(ContainerArchive.pack(files)).isEqualTo(ContainerArchive.pack(Map.copyOf(files)));
    }

    @Test
    void streamingGivesTheSameBytesAsPacking() throws IOException {
        Map<String, byte[]> files = Map.of("rpmbuild/SPECS/a.spec", "x".getBytes(StandardCharsets.UTF_8), "b", new byte[] {1});
        Map<String, ContainerArchive.Content> contents = new java.util.HashMap<>();
        files.forEach((name, bytes) -> contents.put(name, ContainerArchive.Content.of(bytes)));
        try (var in = ContainerArchive.stream(contents)) {
            assertThat(in.readAllBytes()).isEqualTo(ContainerArchive.pack(files));
        }
    }

    @Test
    void streamsAFileFromDiskLargerThanThePipeWhole() throws IOException {
        Path big = out.resolve("big.bin");
        byte[] block = new byte[1 << 20];
        new java.util.Random(7).nextBytes(block);
        try (var w = Files.newOutputStream(big)) {
            for (int i = 0; i < 5; i++) {
                w.write(block);
            }
        }
        try (var in = new TarArchiveInputStream(ContainerArchive.stream(Map.of("SOURCES/big.bin", ContainerArchive.Content.of(big))))) {
            assertThat(in.getNextEntry().getName()).isEqualTo("SOURCES/");
            TarArchiveEntry e = in.getNextEntry();
            assertThat(e.getName()).isEqualTo("SOURCES/big.bin");
            assertThat(e.getSize()).isEqualTo(5L << 20);
            assertThat(in.readAllBytes()).isEqualTo(Files.readAllBytes(big));
        }
    }

    @Test
    void aFileThatCannotBeReadFailsTheStreamInsteadOfEndingItEarly() {
        Path missing = out.resolve("missing.tar.gz");
        assertThatThrownBy(() -> {
            try (var in = ContainerArchive.stream(Map.of("SOURCES/missing.tar.gz", ContainerArchive.Content.of(missing)))) {
                in.readAllBytes();
            }
        }).isInstanceOf(IOException.class).hasMessageContaining("missing.tar.gz");
    }

    @Test
    void closingTheStreamEarlyStopsItsWriter() throws Exception {
        Path big = out.resolve("big.bin");
        Files.write(big, new byte[8 << 20]);
        var in = ContainerArchive.stream(Map.of("big.bin", ContainerArchive.Content.of(big)));
        assertThat(in.read(new byte[10])).isEqualTo(10);
        long started = System.nanoTime();
        in.close();
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(java.time.Duration.ofSeconds(5));
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("kiln-tar") && t.isAlive());
    }

    @Test
    void refusesToStreamPathsClimbingOutBeforeSendingAnything() {
        assertThatThrownBy(() -> ContainerArchive.stream(Map.of("../etc/x", ContainerArchive.Content.of(new byte[0]))))
                .isInstanceOf(KilnException.class).hasMessageContaining("../etc/x");
    }

    @Test
    void refusesToPackPathsClimbingOut() {
        assertThatThrownBy(() -> ContainerArchive.pack(Map.of("../etc/x", new byte[0])))
                .isInstanceOf(KilnException.class).hasMessageContaining("../etc/x");
    }

    @Test
    void extractsRegularFilesBelowTheRequestedFolder() throws IOException {
        byte[] tar = tar(t -> {
            dir(t, "RPMS/");
            dir(t, "RPMS/noarch/");
            file(t, "RPMS/noarch/a-1-1.noarch.rpm", "rpm");
        });
        List<Path> files = ContainerArchive.extract(new ByteArrayInputStream(tar), out);
        assertThat(files).containsExactly(out.resolve("noarch/a-1-1.noarch.rpm"));
        assertThat(files.getFirst()).hasContent("rpm");
        assertThat(listAll()).containsExactly(out.resolve("noarch"), out.resolve("noarch/a-1-1.noarch.rpm"));
    }

    @Test
    void refusesDotDotEntryAndWritesNothing() {
        byte[] tar = tar(t -> {
            dir(t, "out/");
            file(t, "out/good", "fine");
            file(t, "out/../x", "evil");
        });
        assertRefused(tar, "out/../x");
    }

    @Test
    void refusesSymlinkEntryAndWritesNothing() {
        byte[] tar = tar(t -> {
            file(t, "out/good", "fine");
            link(t, "out/evil", "/etc/passwd", TarConstants.LF_SYMLINK);
        });
        assertRefused(tar, "out/evil");
    }

    @Test
    void refusesHardLinkEntry() {
        assertRefused(tar(t -> link(t, "out/evil", "out/good", TarConstants.LF_LINK)), "out/evil");
    }

    @Test
    void refusesFifoAndDeviceEntries() {
        assertRefused(tar(t -> special(t, "out/pipe", TarConstants.LF_FIFO)), "out/pipe");
        assertRefused(tar(t -> special(t, "out/disk", TarConstants.LF_BLK)), "out/disk");
        assertRefused(tar(t -> special(t, "out/tty", TarConstants.LF_CHR)), "out/tty");
    }

    @Test
    void refusesAbsoluteEntryAndEntriesOutsideTheFolder() {
        assertRefused(tar(t -> file(t, "/etc/cron.d/x", "evil")), "/etc/cron.d/x");
        assertRefused(tar(t -> {
            file(t, "out/a", "fine");
            file(t, "other/b", "evil");
        }), "other/b");
    }

    private void assertRefused(byte[] tar, String entry) {
        assertThatThrownBy(() -> ContainerArchive.extract(new ByteArrayInputStream(tar), out))
                .isInstanceOf(KilnException.class)
                .hasMessageStartingWith("Build output entry " + entry + " refused");
        assertThat(listAll()).isEmpty();
    }

    private List<Path> listAll() {
        try (Stream<Path> s = Files.walk(out)) {
            return s.filter(p -> !p.equals(out)).sorted().toList();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    interface TarWriter {
        void write(TarArchiveOutputStream t) throws IOException;
    }

    private static byte[] tar(TarWriter w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(bytes)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            w.write(t);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        return bytes.toByteArray();
    }

    private static void dir(TarArchiveOutputStream t, String name) throws IOException {
        t.putArchiveEntry(new TarArchiveEntry(name));
        t.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream t, String name, String content) throws IOException {
        // preserveAbsolutePath: the test must be able to write what a hostile engine could send.
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        e.setSize(b.length);
        t.putArchiveEntry(e);
        t.write(b);
        t.closeArchiveEntry();
    }

    private static void link(TarArchiveOutputStream t, String name, String target, byte type) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, type);
        e.setLinkName(target);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }

    private static void special(TarArchiveOutputStream t, String name, byte type) throws IOException {
        t.putArchiveEntry(new TarArchiveEntry(name, type));
        t.closeArchiveEntry();
    }

}
