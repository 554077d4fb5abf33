package dev.kiln;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL 15 (Debian's {@code postgresql}) in a fresh temporary folder, listening on
 * 127.0.0.1 and a free port with password sign-in (SCRAM) over TCP, with one user {@code kiln}
 * whose password is made up here; removed with its folder on close. The server refuses to run as
 * root, so under root it runs as the {@code postgres} user the package made.
 *
 * <pre>{@code
 * try (PostgresServer pg = PostgresServer.start()) {
 *     String url = pg.createDatabase("tokens"); // jdbc:postgresql://127.0.0.1:port/tokens?user=kiln
 *     ServiceDatabase.open(url, Optional.of(pg.password()));
 * }
 * }</pre>
 */
public final class PostgresServer implements AutoCloseable {

    public static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    public static final String USER = "kiln";
    private static final String SUPERUSER = "postgres";

    private final Path dir;
    private final int port;
    private final String superPassword = secret();
    private final String password = secret();

    private PostgresServer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    public static boolean available() {
        return Files.isExecutable(BIN.resolve("initdb")) && Files.isExecutable(BIN.resolve("pg_ctl"));
    }

    /** Makes the cluster, starts it and creates the user {@code kiln}; any failure removes the folder again. */
    public static PostgresServer start() throws IOException, InterruptedException {
        if (!available()) {
            throw new IllegalStateException("PostgreSQL 15 is not installed at " + BIN + ": apt-get install -y postgresql (ci/test does)");
        }
        Path dir = Files.createTempDirectory("kiln-postgres", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        PostgresServer server = new PostgresServer(dir, port);
        try {
            server.init();
            return server;
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private static boolean asRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private void init() throws IOException, InterruptedException {
        if (asRoot()) {
            UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
            Files.setOwner(dir, users.lookupPrincipalByName(SUPERUSER));
        }
        Path pwfile = dir.resolve("superuser-password");
        Files.writeString(pwfile, superPassword + "\n");
        if (asRoot()) {
            Files.setOwner(pwfile, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(SUPERUSER));
        }
        // --no-sync and fsync=off: a test server's data need not survive a power cut, and syncing costs seconds here
        run(BIN.resolve("initdb").toString(), "-D", data().toString(), "-U", SUPERUSER, "--pwfile=" + pwfile, "--auth-local=trust",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync");
        Files.delete(pwfile);
        run(BIN.resolve("pg_ctl").toString(), "-D", data().toString(), "-l", dir.resolve("server.log").toString(), "-w", "-t", "60",
                "-o", "-c listen_addresses=127.0.0.1 -p " + port + " -c unix_socket_directories= -c fsync=off -c synchronous_commit=off"
                        + " -c full_page_writes=off -c max_connections=100",
                "start");
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + USER + " LOGIN PASSWORD '" + password + "'");
        } catch (SQLException e) {
            throw new IOException("cannot create the user " + USER + ": " + log(), e);
        }
    }

    /** The data folder (tables, write-ahead log). */
    public Path data() {
        return dir.resolve("data");
    }

    public int port() {
        return port;
    }

    /** The password of {@link #USER}. */
    public String password() {
        return password;
    }

    /** Creates database {@code name}, owned by {@link #USER}, and returns its URL (the user in it, never the password). */
    public String createDatabase(String name) {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name + " OWNER " + USER);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + ": " + log(), e);
        }
        return url(name);
    }

    /** The URL of database {@code name} for {@link #USER}. */
    public String url(String name) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + name + "?user=" + USER;
    }

    /** Writes every changed page to the data files, so what the tables hold is in {@link #data()}. */
    public void checkpoint() {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
        } catch (SQLException e) {
            throw new IllegalStateException("checkpoint failed: " + log(), e);
        }
    }

    private Connection superuser(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", SUPERUSER);
        p.setProperty("password", superPassword);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("server.log"));
        } catch (IOException e) {
            return "(no server log)";
        }
    }

    private void run(String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        if (asRoot()) {
            full.addAll(List.of("runuser", "-u", SUPERUSER, "--"));
        }
        full.addAll(List.of(command));
        Path out = Files.createTempFile("kiln-postgres", ".out");
        try {
            // the server's working folder must be one its user may enter
            Process p = new ProcessBuilder(full).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not end within 120 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + Files.readString(out) + log());
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String secret() {
        byte[] b = new byte[16];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Stops the server at once (its data is thrown away) and removes its folder. */
    @Override
    public void close() {
        try {
            if (Files.exists(data().resolve("postmaster.pid"))) {
                run(BIN.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "immediate", "-w", "stop");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot stop the PostgreSQL server in " + dir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            KilnProject.deleteTree(dir);
        }
    }
}
