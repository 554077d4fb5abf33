package dev.kiln.service;

import dev.kiln.KilnException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The service's builds, in its database: the queue and the history are one table, so a build
 * survives a stop of the service in whatever state it was. Every change of state is one
 * conditional update ({@code ... WHERE state = 'queued'}), so two threads, or a cancel racing a
 * start, can never both win. Submitting and cancelling are written to the audit log in the same
 * transaction.
 */
public final class BuildQueue {

    /** What a submitter asks for; the commit is already resolved from the ref. */
    public record Submission(List<String> packages, Optional<String> changedSince, String ref, String commit,
            ServiceBuild.Mode mode, boolean acceptChanges, Optional<ServiceBuild.Bump> bump) {
        public Submission {
            packages = List.copyOf(packages);
        }
    }

    private static final String COLUMNS = "id, packages, changed_since, ref, commit_id, publish, accept_changes, submitter, state,"
            + " attempt, submitted_at, started_at, finished_at, exit_code, message, result, bump";

    private static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    private final ServiceDatabase database;
    private final Clock clock;

    public BuildQueue(ServiceDatabase database, Clock clock) {
        this.database = database;
        this.clock = clock;
    }

    public Clock clock() {
        return clock;
    }

    /** Queues a build and returns it. */
    public ServiceBuild submit(Submission s, String submitter) {
        Instant now = clock.instant();
        try (Connection c = database.connect()) {
            c.setAutoCommit(false);
            long id;
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO service_build (packages, changed_since, ref, commit_id,"
                    + " publish, accept_changes, submitter, state, attempt, submitted_at, bump) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)",
                    new String[] {"id"})) { // by name: PostgreSQL would otherwise return every column
                insert.setString(1, String.join(" ", s.packages()));
                insert.setString(2, s.changedSince().orElse(null));
                insert.setString(3, s.ref());
                insert.setString(4, s.commit());
                insert.setBoolean(5, s.mode() == ServiceBuild.Mode.PUBLISH);
                insert.setBoolean(6, s.acceptChanges());
                insert.setString(7, submitter);
                insert.setLong(8, now.toEpochMilli());
                insert.setString(9, s.bump().map(b -> JSON.writeValueAsString(b.document())).orElse(null));
                insert.executeUpdate();
                try (ResultSet keys = insert.getGeneratedKeys()) {
                    keys.next();
                    id = keys.getLong(1);
                }
            }
            Audit.append(c, now, submitter, (s.bump().isPresent() ? "bump." : "build.") + s.mode().label(),
                    "#" + id + " " + describe(s) + (s.acceptChanges() ? " (guard changes accepted)" : ""));
            c.commit();
            return find(c, id).orElseThrow();
        } catch (SQLException e) {
            throw failed("queue the build", e);
        }
    }

    /** Writes one entry to the audit log (what is no change of a build's state: a webhook's push). */
    void audit(String actor, String action, String subject) {
        try (Connection c = database.connect()) {
            Audit.append(c, clock.instant(), actor, action, subject);
        } catch (SQLException e) {
            throw failed("write the audit log", e);
        }
    }

    private static String describe(Submission s) {
        return (s.packages().isEmpty() ? "changed since " + s.changedSince().orElse("?") : String.join(" ", s.packages()))
                + " at " + s.ref() + " (" + s.commit() + ")";
    }

    public Optional<ServiceBuild> get(long id) {
        try (Connection c = database.connect()) {
            return find(c, id);
        } catch (SQLException e) {
            throw failed("read build #" + id, e);
        }
    }

    /** The newest builds first, at most {@code limit}. */
    public List<ServiceBuild> list(int limit) {
        return query("SELECT " + COLUMNS + " FROM service_build ORDER BY id DESC", limit);
    }

    /** The queued builds, oldest first. */
    public List<ServiceBuild> queued() {
        return query("SELECT " + COLUMNS + " FROM service_build WHERE state = 'queued' ORDER BY id", Integer.MAX_VALUE);
    }

    /** Builds in {@code state}, oldest first. */
    public List<ServiceBuild> inState(ServiceBuild.State state) {
        return query("SELECT " + COLUMNS + " FROM service_build WHERE state = '" + state.label() + "' ORDER BY id", Integer.MAX_VALUE);
    }

    /** Counts of builds per state, for the page and the metrics. */
    public Map<ServiceBuild.State, Integer> counts() {
        Map<ServiceBuild.State, Integer> counts = new java.util.EnumMap<>(ServiceBuild.State.class);
        for (ServiceBuild.State s : ServiceBuild.State.values()) {
            counts.put(s, 0);
        }
        try (Connection c = database.connect();
                PreparedStatement q = c.prepareStatement("SELECT state, COUNT(*) FROM service_build GROUP BY state");
                ResultSet rs = q.executeQuery()) {
            while (rs.next()) {
                counts.put(ServiceBuild.State.parse(rs.getString(1)), rs.getInt(2));
            }
            return counts;
        } catch (SQLException e) {
            throw failed("count the builds", e);
        }
    }

    /** Moves a queued build to running; false when it is no longer queued (cancelled meanwhile). */
    boolean start(long id) {
        return update("UPDATE service_build SET state = 'running', attempt = attempt + 1, started_at = ? WHERE id = ? AND state = 'queued'",
                clock.instant().toEpochMilli(), id) == 1;
    }

    /** Ends a running build; false when it had ended already (cancelled meanwhile). */
    boolean finish(long id, ServiceBuild.State state, int exitCode, String message, String result) {
        try (Connection c = database.connect();
                PreparedStatement u = c.prepareStatement("UPDATE service_build SET state = ?, finished_at = ?, exit_code = ?,"
                        + " message = ?, result = ? WHERE id = ? AND state = 'running'")) {
            u.setString(1, state.label());
            u.setLong(2, clock.instant().toEpochMilli());
            u.setInt(3, exitCode);
            u.setString(4, truncate(message));
            if (result == null) {
                u.setNull(5, Types.VARCHAR);
            } else {
                u.setString(5, result);
            }
            u.setLong(6, id);
            return u.executeUpdate() == 1;
        } catch (SQLException e) {
            throw failed("record the end of build #" + id, e);
        }
    }

    /**
     * Cancels a queued or running build, written to the audit log with who did it.
     *
     * @return the state it was in, or empty when it had already ended
     */
    Optional<ServiceBuild.State> cancel(long id, String actor, String why) {
        try (Connection c = database.connect()) {
            c.setAutoCommit(false);
            Optional<ServiceBuild> build = find(c, id);
            if (build.isEmpty() || build.get().state().ended()) {
                return Optional.empty();
            }
            try (PreparedStatement u = c.prepareStatement("UPDATE service_build SET state = 'cancelled', finished_at = ?, exit_code = ?,"
                    + " message = ? WHERE id = ? AND state = ?")) {
                u.setLong(1, clock.instant().toEpochMilli());
                u.setInt(2, KilnException.INTERRUPTED);
                u.setString(3, truncate(why));
                u.setLong(4, id);
                u.setString(5, build.get().state().label());
                if (u.executeUpdate() != 1) {
                    c.rollback();
                    return cancel(id, actor, why); // it moved on meanwhile: look again
                }
            }
            Audit.append(c, clock.instant(), actor, "build.cancel", "#" + id + ": " + why);
            c.commit();
            return Optional.of(build.get().state());
        } catch (SQLException e) {
            throw failed("cancel build #" + id, e);
        }
    }

    /**
     * After a stop of the service: each build that was running starts once more (queued again with
     * a note), unless it had already been started twice, which fails it.
     *
     * @return the builds found running
     */
    List<ServiceBuild> recover() {
        List<ServiceBuild> running = inState(ServiceBuild.State.RUNNING);
        for (ServiceBuild b : running) {
            if (b.attempt() >= 2) {
                update("UPDATE service_build SET state = 'failed', finished_at = ?, exit_code = " + KilnException.INTERRUPTED
                        + ", message = 'interrupted twice by stops of the service; submit it again' WHERE id = ? AND state = 'running'",
                        clock.instant().toEpochMilli(), b.id());
            } else {
                update("UPDATE service_build SET state = 'queued', started_at = NULL, message = 'interrupted by a stop of the service;"
                        + " started again' WHERE id = ? AND state = 'running'", b.id());
            }
        }
        return running;
    }

    private int update(String sql, long... values) {
        try (Connection c = database.connect(); PreparedStatement u = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                u.setLong(i + 1, values[i]);
            }
            return u.executeUpdate();
        } catch (SQLException e) {
            throw failed("update the queue", e);
        }
    }

    private List<ServiceBuild> query(String sql, int limit) {
        try (Connection c = database.connect(); PreparedStatement q = c.prepareStatement(sql)) {
            q.setMaxRows(limit);
            try (ResultSet rs = q.executeQuery()) {
                List<ServiceBuild> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(row(rs));
                }
                return out;
            }
        } catch (SQLException e) {
            throw failed("read the builds", e);
        }
    }

    private static Optional<ServiceBuild> find(Connection c, long id) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT " + COLUMNS + " FROM service_build WHERE id = ?")) {
            q.setLong(1, id);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    private static ServiceBuild row(ResultSet rs) throws SQLException {
        String packages = rs.getString(2);
        return new ServiceBuild(rs.getLong(1), packages.isBlank() ? List.of() : Arrays.asList(packages.split(" ")),
                Optional.ofNullable(rs.getString(3)), rs.getString(4), rs.getString(5),
                rs.getBoolean(6) ? ServiceBuild.Mode.PUBLISH : ServiceBuild.Mode.SCRATCH, rs.getBoolean(7), rs.getString(8),
                ServiceBuild.State.parse(rs.getString(9)), rs.getInt(10), Instant.ofEpochMilli(rs.getLong(11)),
                instant(rs, 12), instant(rs, 13), Optional.ofNullable((Integer) rs.getObject(14, Integer.class)),
                Optional.ofNullable(rs.getString(15)), Optional.ofNullable(rs.getString(16)),
                Optional.ofNullable(rs.getString(17)).map(text -> ServiceBuild.Bump.parse(JSON.readTree(text))));
    }

    private static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 4000 ? s : s.substring(0, 3990) + "...";
    }

    private static IllegalStateException failed(String what, SQLException e) {
        return new IllegalStateException("cannot " + what + " in the service's database", e);
    }
}
