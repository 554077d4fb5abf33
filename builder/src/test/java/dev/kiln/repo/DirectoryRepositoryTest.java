package dev.kiln.repo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class DirectoryRepositoryTest {

    @Test
    void rendersAPasteableDnfLineWithBothSignatureChecksOn() {
        assertThat(DirectoryRepository.dnfInstallCommand(URI.create("http://build.example:8080/repo/"), "hello"))
                .isEqualTo("sudo dnf install -y --repofrompath=kiln,http://build.example:8080/repo/"
                        + " --setopt=kiln.gpgcheck=1 --setopt=kiln.repo_gpgcheck=1"
                        + " --setopt=kiln.gpgkey=http://build.example:8080/repo/RPM-GPG-KEY-kiln hello");
    }

    @Test
    void quotesValuesTheShellWouldSplit() {
        assertThat(DirectoryRepository.dnfInstallCommand(URI.create("http://h/a%20b"), "x;rm"))
                .contains(" --repofrompath=kiln,http://h/a%20b/ ").endsWith(" 'x;rm'");
    }

    @Test
    void repositoryLinkToAForeignFolderIsRefusedNotServed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path link = java.nio.file.Files.createSymbolicLink(tmp.resolve("repo"), java.nio.file.Path.of("/etc"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DirectoryRepository(link).currentSnapshot())
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessage("repository link " + link + " does not point to one of its snapshots in " + tmp.resolve("repo.snapshots")
                        + ": it is not a Kiln repository; remove the link or choose another repository path");
        // nor to a folder that only looks like a snapshot, outside its own snapshots folder
        java.nio.file.Files.createDirectories(tmp.resolve("elsewhere/7"));
        java.nio.file.Files.createDirectories(tmp.resolve("repo.snapshots"));
        java.nio.file.Files.delete(link);
        java.nio.file.Files.createSymbolicLink(link, java.nio.file.Path.of("elsewhere/7"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DirectoryRepository(link).packages())
                .hasMessageContaining("does not point to one of its snapshots");
        java.nio.file.Files.createDirectories(tmp.resolve("repo.snapshots/7"));
        java.nio.file.Files.delete(link);
        java.nio.file.Files.createSymbolicLink(link, java.nio.file.Path.of("repo.snapshots/7"));
        assertThat(new DirectoryRepository(link).currentSnapshot()).isEqualTo(tmp.resolve("repo.snapshots/7").toRealPath());
    }
}
