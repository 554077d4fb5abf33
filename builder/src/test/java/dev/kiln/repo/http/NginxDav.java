package dev.kiln.repo.http;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A real nginx with its WebDAV modules (Debian's {@code nginx} and {@code libnginx-mod-http-dav-ext}),
 * started on a free loopback port over a fresh folder, optionally behind basic authentication, and
 * stopped on close.
 */
public final class NginxDav implements AutoCloseable {

    static final Path NGINX = Path.of("/usr/sbin/nginx");
    static final Path DAV_EXT = Path.of("/usr/lib/nginx/modules/ngx_http_dav_ext_module.so");

    final Path dir;
    final Path root;
    final int port;
    private final String extra;
    private Process process;

    private NginxDav(Path dir, int port, String extra) {
        this.dir = dir;
        this.root = dir.resolve("root");
        this.port = port;
        this.extra = extra;
    }

    public static boolean available() {
        return Files.isExecutable(NGINX) && Files.isRegularFile(DAV_EXT);
    }

    /** Starts nginx; {@code locationExtra} goes into the location block (auth, limits). */
    public static NginxDav start(Path dir, String locationExtra) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        NginxDav nginx = new NginxDav(dir, port, locationExtra);
        nginx.start();
        return nginx;
    }

    /** Starts a server that refuses every write without the user and password given (basic authentication). */
    static NginxDav startWithPassword(Path dir, String user, String password) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("htpasswd"), user + ":{PLAIN}" + password + "\n");
        return start(dir, "auth_basic \"kiln\"; auth_basic_user_file " + dir.resolve("htpasswd") + ";");
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + port + "/repo/");
    }

    Path repository() {
        return root.resolve("repo");
    }

    void start() throws IOException {
        Files.createDirectories(root.resolve("repo"));
        Files.createDirectories(dir.resolve("body"));
        boolean root0 = "root".equals(System.getProperty("user.name"));
        String config = """
                load_module %s;
                %s
                daemon off;
                master_process on;
                worker_processes 1;
                pid %s/nginx.pid;
                error_log %s/error.log;
                events { worker_connections 256; }
                http {
                  access_log %s/access.log;
                  client_body_temp_path %s/body;
                  proxy_temp_path %s/body; fastcgi_temp_path %s/body; uwsgi_temp_path %s/body; scgi_temp_path %s/body;
                  server {
                    listen 127.0.0.1:%d;
                    root %s;
                    client_max_body_size 0;
                    location / {
                      dav_methods PUT DELETE MKCOL COPY MOVE;
                      dav_ext_methods PROPFIND OPTIONS;
                      dav_access user:rw group:r all:r;
                      create_full_put_path on;
                      %s
                    }
                  }
                }
                """.formatted(DAV_EXT, root0 ? "user root;" : "", dir, dir, dir, dir, dir, dir, dir, dir, port, root, extra);
        Files.writeString(dir.resolve("nginx.conf"), config);
        process = new ProcessBuilder(List.of(NGINX.toString(), "-c", dir.resolve("nginx.conf").toString(), "-p", dir.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline)) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!process.isAlive()) {
                    throw new IOException("nginx did not start: " + Files.readString(dir.resolve("stdout.log"))
                            + (Files.exists(dir.resolve("error.log")) ? Files.readString(dir.resolve("error.log")) : ""));
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException(ie);
                }
            }
        }
        throw new IOException("nginx did not listen on port " + port + " within 10 s");
    }

    /** Stops nginx at once (SIGKILL to the master and its worker), as a crash or a hard restart would. */
    void kill() {
        if (process != null) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    @Override
    public void close() {
        kill();
    }
}
