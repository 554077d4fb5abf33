package dev.kiln.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.KilnException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipEncodingHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bounds on what a build may copy out: refused on the tar's headers, before the bytes land on the host. */
class ContainerOutputLimitsTest {

    @TempDir
    Path host;

    @Test
    void refusesMoreFilesThanTheOutputFileLimit() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.putArchiveEntry(new TarArchiveEntry("out/"));
            tar.closeArchiveEntry();
            for (int i = 0; i <= ContainerLimits.OUTPUT_MAX_FILES; i++) {
                TarArchiveEntry e = new TarArchiveEntry("out/f" + i + ".rpm");
                e.setSize(1);
                tar.putArchiveEntry(e);
                tar.write('x');
                tar.closeArchiveEntry();
            }
        }
        assertThatThrownBy(() -> ContainerArchive.extract(new java.io.ByteArrayInputStream(bytes.toByteArray()), host.resolve("rpms")))
                .isInstanceOf(KilnException.class)
                .hasMessageContaining("more than " + ContainerLimits.OUTPUT_MAX_FILES + " files (the output file limit)")
                .extracting(e -> ((KilnException) e).exitCode()).isEqualTo(KilnException.BUILD_FAILED);
        assertThat(host.resolve("rpms")).isEmptyDirectory();
    }

    @Test
    void refusesAFileBeyondTheOutputSizeLimitBeforeCopyingIt() throws IOException {
        // Only the headers exist: the entry claims more than the limit, and the stream ends after its header.
        byte[] dir = header("out/", 0, true);
        byte[] big = header("out/huge.rpm", ContainerLimits.OUTPUT_MAX_BYTES + 1, false);
        InputStream tar = new SequenceInputStream(new java.io.ByteArrayInputStream(dir), new java.io.ByteArrayInputStream(big));
        assertThatThrownBy(() -> ContainerArchive.extract(tar, host.resolve("rpms")))
                .isInstanceOf(KilnException.class)
                .hasMessageContaining("more than 8 GiB (the output size limit), at out/huge.rpm")
                .extracting(e -> ((KilnException) e).exitCode()).isEqualTo(KilnException.BUILD_FAILED);
        try (var left = Files.list(host.resolve("rpms"))) {
            assertThat(left).isEmpty();
        }
    }

    private static byte[] header(String name, long size, boolean directory) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        if (!directory) {
            e.setSize(size);
        }
        byte[] block = new byte[512];
        e.writeEntryHeader(block, ZipEncodingHelper.getZipEncoding("UTF-8"), true);
        return block;
    }
}
