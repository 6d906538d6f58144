package dev.jitaccess.jdbc;

import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.AccessRequestState.Status;
import dev.jitaccess.api.ProviderException;
import dev.jitaccess.api.spi.AccessRequestStore;
import dev.jitaccess.jdbc.internal.RequestCodec;
import dev.jitaccess.jdbc.internal.SchemaMigrator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * An {@link dev.jitaccess.api.spi.AccessRequestStore} in a relational database, through plain JDBC on a
 * {@link DataSource} (PostgreSQL is tested; the SQL is standard apart from {@code CREATE TABLE IF NOT EXISTS}
 * and {@code TIMESTAMP WITH TIME ZONE}). Requests survive restarts and are shared by every engine on the same
 * database.
 *
 * <p>{@link #create(DataSource)} creates or migrates the schema (tables {@code jit_access_schema_version} and
 * {@code jit_access_request}, documented in {@code docs/access-requests.md}); doing so again, or from several
 * processes at once, is harmless. {@link #replace} is {@code UPDATE ... WHERE id = ? AND version = ?}, so the
 * optimistic locking holds across processes. Timestamps are kept to the microsecond (the engine uses whole
 * seconds).
 *
 * <p>Thread-safe: every call takes its own connection from the data source (use a pool). A
 * {@link SQLException} becomes a {@link ProviderException} with id {@code "jdbc"} and the cause; the engine
 * then fails closed.
 *
 * @since 0.2.0
 */
public final class JdbcAccessRequestStore implements AccessRequestStore {
  private static final String COLUMNS =
      "id, requester_id, requester, cluster, roles, permissions, duration, justification, created_at,"
          + " expires_at, required_approvals, status, reviews, activated_at, active_until, extensions,"
          + " extension_justification, expiry_notified, version";

  private final DataSource dataSource;

  private JdbcAccessRequestStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * A store on the data source, after bringing its schema to the current version.
   *
   * @param dataSource where the tables live; the user needs CREATE rights for the first start
   * @return the store
   * @throws NullPointerException if {@code dataSource} is null
   * @throws ProviderException if the schema could not be created or migrated
   */
  public static JdbcAccessRequestStore create(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource");
    try {
      SchemaMigrator.migrate(dataSource, JdbcAccessRequestStore.class);
    } catch (SQLException e) {
      throw failure("migrating the schema", e);
    }
    return new JdbcAccessRequestStore(dataSource);
  }

  /**
   * The schema version this library brings a database to.
   *
   * @return the latest version number
   */
  public static int schemaVersion() {
    return SchemaMigrator.SCRIPTS.size();
  }

  /**
   * {@inheritDoc}
   *
   * @throws NullPointerException if {@code request} is null
   * @throws ProviderException if the database failed
   */
  @Override
  public void create(AccessRequestState request) {
    Objects.requireNonNull(request, "request");
    if (request.version() != 0) {
      throw new IllegalArgumentException("a new request must have version 0 but had " + request.version());
    }
    String sql =
        "INSERT INTO jit_access_request (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    try (Connection c = dataSource.getConnection();
        PreparedStatement p = c.prepareStatement(sql)) {
      p.setString(1, request.id());
      p.setString(2, request.requester().id());
      p.setString(3, RequestCodec.subject(request.requester()));
      p.setString(4, request.cluster());
      p.setString(5, RequestCodec.strings(request.roles()));
      p.setString(6, RequestCodec.permissions(request.permissions()));
      p.setString(7, request.duration().toString());
      p.setString(8, request.justification());
      p.setObject(9, time(request.createdAt()));
      p.setObject(10, time(request.expiresAt()));
      p.setInt(11, request.requiredApprovals());
      bindMutable(p, 12, request);
      p.executeUpdate();
    } catch (SQLException e) {
      if (e.getSQLState() != null && e.getSQLState().startsWith("23") && find(request.id()).isPresent()) {
        throw new IllegalStateException("access request " + request.id() + " already exists", e);
      }
      throw failure("storing access request " + request.id(), e);
    }
  }

  /**
   * {@inheritDoc}
   *
   * @throws ProviderException if the database failed or the row cannot be read back
   */
  @Override
  public Optional<AccessRequestState> find(String id) {
    Objects.requireNonNull(id, "id");
    List<AccessRequestState> found = query("SELECT " + COLUMNS + " FROM jit_access_request WHERE id = ?", List.of(id));
    return found.stream().findFirst();
  }

  /**
   * {@inheritDoc}
   *
   * @throws NullPointerException if {@code next} is null
   * @throws ProviderException if the database failed
   */
  @Override
  public boolean replace(long expectedVersion, AccessRequestState next) {
    Objects.requireNonNull(next, "next");
    if (next.version() != expectedVersion + 1) {
      throw new IllegalArgumentException(
          "next.version must be expectedVersion + 1 = " + (expectedVersion + 1) + " but was " + next.version());
    }
    String sql =
        "UPDATE jit_access_request SET status = ?, reviews = ?, activated_at = ?, active_until = ?,"
            + " extensions = ?, extension_justification = ?, expiry_notified = ?, version = ?"
            + " WHERE id = ? AND version = ?";
    int updated;
    try (Connection c = dataSource.getConnection();
        PreparedStatement p = c.prepareStatement(sql)) {
      bindMutable(p, 1, next);
      p.setString(9, next.id());
      p.setLong(10, expectedVersion);
      updated = p.executeUpdate();
    } catch (SQLException e) {
      throw failure("updating access request " + next.id(), e);
    }
    if (updated == 0 && find(next.id()).isEmpty()) {
      throw new NoSuchElementException("unknown access request " + next.id());
    }
    return updated == 1;
  }

  /**
   * {@inheritDoc}
   *
   * @throws ProviderException if the database failed
   */
  @Override
  public List<AccessRequestState> findByStatus(Set<Status> statuses) {
    Objects.requireNonNull(statuses, "statuses");
    if (statuses.isEmpty()) {
      return List.of();
    }
    String marks = statuses.stream().map(s -> "?").collect(Collectors.joining(", "));
    List<Object> names = statuses.stream().map(Status::name).sorted().collect(Collectors.toList());
    return query(
        "SELECT " + COLUMNS + " FROM jit_access_request WHERE status IN (" + marks + ") ORDER BY created_at, id",
        names);
  }

  /**
   * {@inheritDoc}
   *
   * @throws ProviderException if the database failed
   */
  @Override
  public List<AccessRequestState> findByRequester(String requesterId) {
    Objects.requireNonNull(requesterId, "requesterId");
    return query(
        "SELECT " + COLUMNS + " FROM jit_access_request WHERE requester_id = ? ORDER BY created_at, id",
        List.of(requesterId));
  }

  @Override
  public String id() {
    return "jdbc";
  }

  /** Binds status .. version (8 parameters) from {@code first}. */
  private static void bindMutable(PreparedStatement p, int first, AccessRequestState r) throws SQLException {
    p.setString(first, r.status().name());
    p.setString(first + 1, RequestCodec.reviews(r.reviews()));
    p.setObject(first + 2, time(r.activatedAt()));
    p.setObject(first + 3, time(r.activeUntil()));
    p.setInt(first + 4, r.extensions());
    p.setString(first + 5, r.extensionJustification());
    p.setBoolean(first + 6, r.expiryNotified());
    p.setLong(first + 7, r.version());
  }

  private List<AccessRequestState> query(String sql, List<Object> parameters) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement p = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.size(); i++) {
        p.setObject(i + 1, parameters.get(i));
      }
      List<AccessRequestState> result = new ArrayList<>();
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          result.add(row(rs));
        }
      }
      return List.copyOf(result);
    } catch (SQLException e) {
      throw failure("reading access requests", e);
    }
  }

  private static AccessRequestState row(ResultSet rs) throws SQLException {
    String id = rs.getString("id");
    try {
      return new AccessRequestState(
          id,
          RequestCodec.subject(rs.getString("requester")),
          rs.getString("cluster"),
          RequestCodec.strings(rs.getString("roles")),
          RequestCodec.permissions(rs.getString("permissions")),
          Duration.parse(rs.getString("duration")),
          rs.getString("justification"),
          Objects.requireNonNull(instant(rs, "created_at")),
          Objects.requireNonNull(instant(rs, "expires_at")),
          rs.getInt("required_approvals"),
          Status.valueOf(rs.getString("status")),
          RequestCodec.reviews(rs.getString("reviews")),
          instant(rs, "activated_at"),
          instant(rs, "active_until"),
          rs.getInt("extensions"),
          rs.getString("extension_justification"),
          rs.getBoolean("expiry_notified"),
          rs.getLong("version"));
    } catch (ParseException | RuntimeException e) {
      throw new ProviderException("jdbc", "access request " + id + " in the database is corrupt: " + e.getMessage(), e);
    }
  }

  private static @Nullable OffsetDateTime time(@Nullable Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }

  private static @Nullable Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    return value == null ? null : value.toInstant();
  }

  private static ProviderException failure(String what, SQLException e) {
    return new ProviderException("jdbc", what + " failed: SQLState " + e.getSQLState() + ", " + e.getMessage(), e);
  }

  @Override
  public String toString() {
    return "JdbcAccessRequestStore[" + dataSource + "]";
  }
}
