package dev.jitaccess.k8s.internal;

import java.time.Duration;
import java.time.Instant;

/**
 * A bound token and its real lifetime as Kubernetes reported it.
 *
 * @param token the token; never printed
 * @param obtainedAt when the agent received it
 * @param expiresAt {@code status.expirationTimestamp} of the TokenRequest
 */
record IssuedToken(String token, Instant obtainedAt, Instant expiresAt) {
  /** The least remaining life at which a cached token is still handed out. */
  static final Duration MIN_REMAINING = Duration.ofMinutes(2);

  /**
   * Whether the token should be replaced: less than 20% of its life or less than two minutes remain,
   * whichever is more.
   */
  boolean needsRefresh(Instant now) {
    Duration lifetime = Duration.between(obtainedAt, expiresAt);
    Duration margin = lifetime.dividedBy(5);
    if (margin.compareTo(MIN_REMAINING) < 0) {
      margin = MIN_REMAINING;
    }
    return !now.plus(margin).isBefore(expiresAt);
  }

  @Override
  public String toString() {
    return "IssuedToken[token=<redacted>, obtainedAt=" + obtainedAt + ", expiresAt=" + expiresAt + "]";
  }
}
