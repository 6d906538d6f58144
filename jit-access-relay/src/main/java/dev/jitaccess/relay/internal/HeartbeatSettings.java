package dev.jitaccess.relay.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * Heartbeat timings of a tunnel: an HTTP/2 PING after {@code interval} without writes, and the tunnel closed
 * after {@code timeout} without reading anything (not even a PING ack).
 *
 * @param interval how long the tunnel may be write-idle before a PING is sent
 * @param timeout how long the tunnel may be read-idle before it is considered dead
 */
public record HeartbeatSettings(Duration interval, Duration timeout) {

  /** PING every 10 s, dead after 30 s of silence. */
  public static final HeartbeatSettings DEFAULT =
      new HeartbeatSettings(Duration.ofSeconds(10), Duration.ofSeconds(30));

  /**
   * Validates the timings.
   *
   * @throws IllegalArgumentException if one is not positive or the timeout is not longer than the interval
   */
  public HeartbeatSettings {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(timeout, "timeout");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("heartbeat interval must be positive but was " + interval);
    }
    if (timeout.compareTo(interval) <= 0) {
      throw new IllegalArgumentException(
          "heartbeat timeout must be longer than the interval " + interval + " but was " + timeout);
    }
  }
}
