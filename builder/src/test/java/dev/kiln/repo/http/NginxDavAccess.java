package dev.kiln.repo.http;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/** {@link NginxDav} for tests in other packages. */
public final class NginxDavAccess {

    private NginxDavAccess() {
    }

    public static boolean available() {
        return NginxDav.available();
    }

    public static AutoCloseable start(Path dir) throws IOException {
        return NginxDav.start(dir, "");
    }

    public static URI url(AutoCloseable nginx) {
        return ((NginxDav) nginx).url();
    }

    public static Path repository(AutoCloseable nginx) {
        return ((NginxDav) nginx).repository();
    }
}
