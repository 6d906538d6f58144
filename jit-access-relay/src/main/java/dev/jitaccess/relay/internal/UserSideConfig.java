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
 */
public record UserSideConfig(
    AccessEngine engine,
    TunnelRegistry registry,
    Executor executor,
    int maxHeaderSize,
    long maxBodySize,
    Duration headerReadTimeout,
    Duration idleTimeout) {

  /** The longest request line accepted. */
  public static final int MAX_INITIAL_LINE = 8 * 1024;

  /** The largest HTTP/1.1 chunk delivered at once. */
  public static final int MAX_CHUNK = 16 * 1024;

  /** The most concurrent HTTP/2 streams per user connection. */
  public static final int MAX_CONCURRENT_STREAMS = 250;

  /** Validates the components. */
  public UserSideConfig {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(executor, "executor");
    Objects.requireNonNull(headerReadTimeout, "headerReadTimeout");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
  }
}
