package dev.jitaccess.relay.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Everything the user side of the relay needs, shared by all its connections.
 *
 * @param engine authentication, authorization and audit
 * @param registry where the clusters' agents are
 * @param executor runs the blocking engine calls, never the event loop
 * @param maxHeaderSize the largest request head in bytes (431 beyond)
 * @param maxBodySize the largest request body in bytes (413 beyond)
 * @param headerReadTimeout how long a request head may take to arrive
 * @param idleTimeout how long a connection or stream may see no traffic either way
 * @param subjectLimiter the open requests of each subject across all connections (429 beyond its limit)
 * @param maxConcurrentStreams the most concurrent HTTP/2 streams per user connection (advertised in SETTINGS)
 * @param audit records the per-request audit events off the event loop
 * @param authorizationTimeout how long a request may wait for its authorization before it is answered 503 and
 *     the call is interrupted
 */
public record UserSideConfig(
    AccessEngine engine,
    TunnelRegistry registry,
    Executor executor,
    int maxHeaderSize,
    long maxBodySize,
    Duration headerReadTimeout,
    Duration idleTimeout,
    SubjectLimiter subjectLimiter,
    int maxConcurrentStreams,
    AuditBatcher audit,
    Duration authorizationTimeout) {

  /** The longest request line accepted. */
  public static final int MAX_INITIAL_LINE = 8 * 1024;

  /** The largest HTTP/1.1 chunk delivered at once. */
  public static final int MAX_CHUNK = 16 * 1024;

  /** The default of the most concurrent HTTP/2 streams per user connection. */
  public static final int MAX_CONCURRENT_STREAMS = 250;

  /** What a 429 answer asks the client to wait before retrying, in seconds. */
  public static final int RETRY_AFTER_SECONDS = 1;

  /** Validates the components. */
  public UserSideConfig {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(executor, "executor");
    Objects.requireNonNull(headerReadTimeout, "headerReadTimeout");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(subjectLimiter, "subjectLimiter");
    Objects.requireNonNull(audit, "audit");
    Objects.requireNonNull(authorizationTimeout, "authorizationTimeout");
    if (maxConcurrentStreams <= 0) {
      throw new IllegalArgumentException("maxConcurrentStreams must be positive but was " + maxConcurrentStreams);
    }
  }
}
