package dev.kiln.service;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The append-only audit log: who built, published, accepted guard changes, cancelled, and made or
 * revoked a token. Rows are only ever inserted, in the same transaction as what they record.
 */
public final class Audit {

    /** One entry. */
    public record Event(long id, Instant at, String actor, String action, String subject) {
    }

    private Audit() {
    }

    static void append(Connection c, Instant at, String actor, String action, String subject) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO audit_event (at, actor, action, subject) VALUES (?, ?, ?, ?)")) {
            insert.setLong(1, at.toEpochMilli());
            insert.setString(2, actor);
            insert.setString(3, action);
            insert.setString(4, subject);
            insert.executeUpdate();
        }
    }

    /** Every entry, oldest first. */
    public static List<Event> read(ServiceDatabase database) {
        try (Connection c = database.connect();
                PreparedStatement q = c.prepareStatement("SELECT id, at, actor, action, subject FROM audit_event ORDER BY id");
                ResultSet rs = q.executeQuery()) {
            List<Event> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new Event(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3), rs.getString(4), rs.getString(5)));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit log", e);
        }
    }
}
