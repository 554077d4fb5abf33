package dev.kiln.git;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SourceMirrorTest {

    private static String uri(String url) {
        return SourceMirror.provenanceUri(Optional.of(url), Path.of("/srv/kiln/.kiln/service/source"));
    }

    @Test
    void provenanceNamesThePackagingRepositoryWithoutItsSecrets() {
        assertThat(uri("https://git.example.com/rpms/packaging.git")).isEqualTo("git+https://git.example.com/rpms/packaging.git");
        assertThat(uri("https://ci:glpat-s3cret@git.example.com:8443/rpms/packaging.git"))
                .as("a token in the URL never reaches provenance").isEqualTo("git+https://git.example.com:8443/rpms/packaging.git");
        assertThat(uri("https://oauth2@git.example.com/p.git")).isEqualTo("git+https://git.example.com/p.git");
        assertThat(uri("ssh://git@git.example.com/rpms/packaging.git")).isEqualTo("git+ssh://git@git.example.com/rpms/packaging.git");
        assertThat(uri("ssh://git:pw@git.example.com/p.git")).isEqualTo("git+ssh://git.example.com/p.git");
        assertThat(uri("git@git.example.com:rpms/packaging.git")).isEqualTo("git+ssh://git@git.example.com/rpms/packaging.git");
        assertThat(uri("/srv/git/packaging.git")).isEqualTo("git+file:///srv/git/packaging.git");
        assertThat(uri("file:///srv/git/packaging.git")).isEqualTo("git+file:///srv/git/packaging.git");
        assertThat(SourceMirror.provenanceUri(Optional.empty(), Path.of("/srv/kiln"))).isEqualTo("git+file:///srv/kiln");
    }
}
