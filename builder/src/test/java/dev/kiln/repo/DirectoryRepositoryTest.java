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
}
