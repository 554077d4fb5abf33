package dev.kiln.service;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.KilnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.Properties;

/**
 * The service's database: by default an embedded H2 file of the service's machine
 * ({@code .kiln/service/kiln.mv.db}), opened in H2's mixed mode so {@code kiln token create} works
 * while the service runs; any JDBC URL otherwise (PostgreSQL, several services and commands on one
 * database at once). Its tables are made on first open; the SQL is the subset both speak (times are
 * epoch milliseconds, keys come back by column name). An embedded database holds one connection
 * while open, so it stays open between the connections work takes (H2 closes a file with its last
 * connection, and opening it again costs each request). A server's connections come from a small
 * pool: a new one costs a process on the server and a password exchange, about 20 ms a request.
 *
 * <pre>{@code
 * try (ServiceDatabase db = ServiceDatabase.open("jdbc:postgresql://db:5432/kiln?user=kiln", Optional.of(password))) {
 *     new TokenStore(db, Clock.systemUTC()).list();
 * }
 * }</pre>
 */
public final class ServiceDatabase implements AutoCloseable {

    /** The schema this code reads and writes; a database of a newer one is refused. */
    static final int SCHEMA = 3;
    /** PostgreSQL's advisory lock that makes one opener at a time set up the schema (any number of the service's own). */
    private static final long MIGRATION_LOCK = 0x6b696c6eL; // "kiln"

    private final String url;
    private final Properties credentials;
    private Connection held;
    private HikariDataSource pool;

    private ServiceDatabase(String url, Optional<String> password) {
        this.url = url;
        this.credentials = new Properties();
        password.ifPresent(p -> credentials.setProperty("password", p));
    }

    /** The embedded database in {@code folder} (made when missing). */
    public static ServiceDatabase embedded(Path folder) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the service's folder " + folder, e);
        }
        // AUTO_SERVER: the first process to open the file serves it on loopback to the others.
        // WRITE_DELAY=0: a commit is written at once; by default H2 writes a second later, and a kill -9
        // in that second loses committed changes (a build ended, yet queued again after the restart).
        return open("jdbc:h2:file:" + folder.toAbsolutePath().resolve("kiln") + ";AUTO_SERVER=TRUE;WRITE_DELAY=0");
    }

    /** The database at {@code url}, with its tables made when missing. */
    public static ServiceDatabase open(String url) {
        return open(url, Optional.empty());
    }

    /**
     * The database at {@code url} (which names the user, never the password), signing in with
     * {@code password}, with its tables made when missing.
     */
    public static ServiceDatabase open(String url, Optional<String> password) {
        ServiceDatabase db = new ServiceDatabase(url, password);
        try {
            if (db.embedded()) {
                db.held = db.connect();
            }
            // on a server over a connection of its own, so a wrong host or password is told at once, in one line
            db.migrate();
            if (!db.embedded()) {
                db.pool = db.pool();
            }
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    private HikariDataSource pool() {
        HikariConfig config = new HikariConfig();
        config.setPoolName("kiln-service-database");
        config.setJdbcUrl(url);
        if (credentials.containsKey("password")) {
            config.setPassword(credentials.getProperty("password"));
        }
        // requests and running builds each hold one for a few statements; a command needs one
        config.setMaximumPoolSize(8);
        config.setMinimumIdle(1);
        // migrate() has just signed in; a server that goes away later fails requests after 10 s, not 30
        config.setInitializationFailTimeout(-1);
        config.setConnectionTimeout(10_000);
        return new HikariDataSource(config);
    }

    private boolean embedded() {
        return url.startsWith("jdbc:h2:");
    }

    /** A new connection, closed by the caller. */
    public Connection connect() {
        try {
            return pool != null ? pool.getConnection() : DriverManager.getConnection(url, credentials);
        } catch (SQLException e) {
            // the driver's first line names the host or the file and what failed, never the password;
            // the pool's timeout carries the driver's reason as its cause
            SQLException reason = e.getCause() instanceof SQLException cause ? cause : e;
            String why = String.valueOf(reason.getMessage()).lines().findFirst().orElse("");
            throw KilnException.environment("cannot open the service's database (" + why + "): " + (embedded()
                    ? "check that no other program holds it and that its folder is writable"
                    : "check service.database, KILN_SERVICE_DATABASE_PASSWORD and that the server accepts connections from this host"));
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.close();
        }
        try {
            if (held != null) {
                held.close();
            }
        } catch (SQLException e) {
            // closing: nothing is lost, every change was committed
        }
    }

    /**
     * Makes or upgrades the tables, in one transaction. On PostgreSQL two services starting at once
     * would both find no tables and both make them (one failing on the other's): an advisory lock
     * held to the commit lets one set up the schema while the other waits, then finds it made. (H2
     * commits each CREATE on its own, so there the transaction is only nominal.)
     */
    private void migrate() {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            if (c.getMetaData().getDatabaseProductName().equals("PostgreSQL")) {
                s.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
            }
            s.execute("CREATE TABLE IF NOT EXISTS kiln_schema (version INT NOT NULL)");
            int version = 0;
            try (var rs = s.executeQuery("SELECT MAX(version) FROM kiln_schema")) {
                if (rs.next()) {
                    version = rs.getInt(1);
                }
            }
            if (version > SCHEMA) {
                throw KilnException.environment("the service's database has schema " + version + ", newer than this Kiln's ("
                        + SCHEMA + "): run the Kiln that made it, or a newer one");
            }
            if (version < 1) {
                s.execute("CREATE TABLE api_token (name VARCHAR(64) PRIMARY KEY, scope VARCHAR(16) NOT NULL,"
                        + " secret_sha256 CHAR(64) NOT NULL UNIQUE, created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT)");
                s.execute("CREATE TABLE audit_event (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL,"
                        + " actor VARCHAR(200) NOT NULL, action VARCHAR(40) NOT NULL, subject VARCHAR(400) NOT NULL)");
                s.execute("INSERT INTO kiln_schema (version) VALUES (1)");
            }
            if (version < 2) {
                // one row per submitted build; its log is a file (BuildLog), its result the build's --json document
                s.execute("CREATE TABLE service_build (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                        + " packages VARCHAR(4000) NOT NULL, changed_since VARCHAR(400), ref VARCHAR(400) NOT NULL,"
                        + " commit_id VARCHAR(64) NOT NULL, publish BOOLEAN NOT NULL, accept_changes BOOLEAN NOT NULL,"
                        + " submitter VARCHAR(64) NOT NULL, state VARCHAR(16) NOT NULL, attempt INT NOT NULL,"
                        + " submitted_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT, exit_code INT,"
                        + " message VARCHAR(4000), result VARCHAR(1000000))");
                s.execute("CREATE INDEX service_build_state ON service_build (state, id)");
                s.execute("INSERT INTO kiln_schema (version) VALUES (2)");
            }
            if (version < 3) {
                // a bump the service runs: its order as JSON (ServiceBuild.Bump)
                s.execute("ALTER TABLE service_build ADD COLUMN bump VARCHAR(8000)");
                s.execute("INSERT INTO kiln_schema (version) VALUES (3)");
            }
            c.commit();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set up the service's database at " + url, e);
        }
    }
}
