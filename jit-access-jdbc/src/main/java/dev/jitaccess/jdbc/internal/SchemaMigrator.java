package dev.jitaccess.jdbc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the schema to the latest version: the table {@value #VERSION_TABLE} lists the applied versions; each
 * missing one runs in its own transaction that first claims its row, so two processes migrating at once
 * apply it once (the loser's insert fails on the primary key, it rolls back and moves on). Idempotent.
 */
public final class SchemaMigrator {
  /** The table of applied schema versions. */
  public static final String VERSION_TABLE = "jit_access_schema_version";

  /** The versioned scripts, in order; resources next to {@code JdbcAccessRequestStore}. */
  public static final List<String> SCRIPTS = List.of("V1__access_requests.sql");

  private static final Logger log = LoggerFactory.getLogger(SchemaMigrator.class);

  private SchemaMigrator() {}

  /**
   * Applies the missing versions; returns how many were applied now.
   *
   * @param anchor the class next to which the scripts lie
   */
  public static int migrate(DataSource dataSource, Class<?> anchor) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      try (Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE IF NOT EXISTS " + VERSION_TABLE + " (version INTEGER NOT NULL PRIMARY KEY,"
                + " script VARCHAR(200) NOT NULL, applied_at TIMESTAMP WITH TIME ZONE NOT NULL)");
      }
      int applied = 0;
      for (int i = 0; i < SCRIPTS.size(); i++) {
        if (apply(c, i + 1, SCRIPTS.get(i), anchor)) {
          applied++;
        }
      }
      return applied;
    }
  }

  private static boolean apply(Connection c, int version, String script, Class<?> anchor) throws SQLException {
    if (isApplied(c, version)) {
      return false;
    }
    List<String> statements = statements(script, anchor);
    c.setAutoCommit(false);
    try {
      try (PreparedStatement claim =
          c.prepareStatement("INSERT INTO " + VERSION_TABLE + " (version, script, applied_at) VALUES (?, ?, ?)")) {
        claim.setInt(1, version);
        claim.setString(2, script);
        claim.setObject(3, OffsetDateTime.now(ZoneOffset.UTC));
        claim.executeUpdate();
      } catch (SQLException e) {
        c.rollback();
        if (isApplied(c, version)) {
          return false; // another process applied it meanwhile
        }
        throw e;
      }
      try (Statement s = c.createStatement()) {
        for (String statement : statements) {
          s.execute(statement);
        }
      }
      c.commit();
      log.info("Applied jit-access schema version {} ({})", version, script);
      return true;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  private static boolean isApplied(Connection c, int version) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM " + VERSION_TABLE + " WHERE version = ?")) {
      p.setInt(1, version);
      try (ResultSet rs = p.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** The script's statements: split at semicolons ending a line, whole-line {@code --} comments dropped. */
  static List<String> statements(String script, Class<?> anchor) {
    String text;
    try (InputStream in = Objects.requireNonNull(anchor.getResourceAsStream(script), script)) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the schema script " + script, e);
    }
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("--")) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        String statement = current.toString().strip();
        statements.add(statement.substring(0, statement.length() - 1));
        current.setLength(0);
      }
    }
    if (!current.toString().isBlank()) {
      statements.add(current.toString().strip());
    }
    return statements;
  }
}
