package dev.jitaccess.k8s.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * How calls to kube-apiserver are retried: at most {@code maxAttempts} attempts, exponential backoff from
 * {@code baseDelay} capped at {@code maxDelay} with 25% jitter, and a 429 waits its {@code Retry-After} unless
 * that is longer than {@code maxRetryAfter} (then the call fails at once, marked retryable).
 *
 * @param maxAttempts total attempts including the first; at least 1
 * @param baseDelay the first backoff delay
 * @param maxDelay the largest backoff delay
 * @param maxRetryAfter the longest {@code Retry-After} the caller is made to wait
 */
public record RetrySettings(
    int maxAttempts, Duration baseDelay, Duration maxDelay, Duration maxRetryAfter) {

  /** Four attempts, 200 ms doubling up to 5 s, Retry-After honoured up to 30 s. */
  public static final RetrySettings DEFAULT =
      new RetrySettings(4, Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofSeconds(30));

  /** Validates the settings. */
  public RetrySettings {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1 but was " + maxAttempts);
    }
    Objects.requireNonNull(baseDelay, "baseDelay");
    Objects.requireNonNull(maxDelay, "maxDelay");
    Objects.requireNonNull(maxRetryAfter, "maxRetryAfter");
    if (baseDelay.isNegative() || baseDelay.isZero()) {
      throw new IllegalArgumentException("retryBaseDelay must be positive but was " + baseDelay);
    }
    if (maxDelay.compareTo(baseDelay) <= 0) {
      throw new IllegalArgumentException(
          "retryMaxDelay must be greater than retryBaseDelay ("
              + baseDelay
              + ") but was "
              + maxDelay);
    }
    if (maxRetryAfter.isNegative()) {
      throw new IllegalArgumentException("maxRetryAfter must not be negative but was " + maxRetryAfter);
    }
  }
}
