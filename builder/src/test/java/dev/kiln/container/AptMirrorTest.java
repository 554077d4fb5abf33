package dev.kiln.container;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AptMirrorTest {

    @Test
    void readsFirstDeb822StanzaWhoseSuitesIncludeTheSuite() {
        String sources = """
                Types: deb
                URIs: http://security.example/debian-security
                Suites: bookworm-security
                Components: main

                # a comment line
                Types: deb deb-src
                URIs: http://mirror.example/debian
                  http://second.example/debian
                Suites: bookworm bookworm-updates
                Components: main
                """;
        assertThat(AptMirror.fromDeb822(sources, "bookworm")).contains(new AptMirror("http://mirror.example/debian"));
        assertThat(AptMirror.fromDeb822(sources, "trixie")).isEmpty();
    }

    @Test
    void readsOneLineSourcesWithOptions() {
        String list = """
                # deb http://old.example/debian bookworm main
                deb-src http://src.example/debian bookworm main
                deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian bookworm main contrib
                """;
        assertThat(AptMirror.fromSourcesList(list, "bookworm")).contains(new AptMirror("http://mirror.example/debian"));
        assertThat(new AptMirror("http://mirror.example/debian").hostName()).isEqualTo("mirror.example");
    }
}
