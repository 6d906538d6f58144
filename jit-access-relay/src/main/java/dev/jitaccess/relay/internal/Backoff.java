package dev.jitaccess.relay.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Capped exponential backoff with jitter ("equal jitter": half the step fixed, half random), for reconnects.
 *
 * <p>Attempt {@code n} (from 0) waits between {@code step/2} and {@code step}, where {@code step =
 * min(max, initial * 2^n)}. Not thread-safe: one reconnect loop uses it.
 */
public final class Backoff {
  private final Duration initial;
  private final Duration max;
  private final DoubleSupplier random;
  private int attempt;

  /**
   * Creates a backoff.
   *
   * @param initial the first step, positive
   * @param max the cap, at least {@code initial}
   * @param random uniform values in [0, 1)
   * @throws IllegalArgumentException for a non-positive initial step or a cap below it
   */
  public Backoff(Duration initial, Duration max, DoubleSupplier random) {
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("backoff initial delay must be positive but was " + initial);
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "backoff max delay must be at least the initial delay " + initial + " but was " + max);
    }
    this.initial = initial;
    this.max = max;
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * The delay before the next attempt; each call counts one attempt.
   *
   * @return the delay, never more than the cap
   */
  public Duration next() {
    long initialNanos = initial.toNanos();
    long maxNanos = max.toNanos();
    int shift = Math.min(attempt, 40);
    long step = initialNanos > (maxNanos >> shift) ? maxNanos : Math.min(maxNanos, initialNanos << shift);
    attempt = Math.min(attempt + 1, 64);
    long half = step / 2;
    return Duration.ofNanos(half + (long) (random.getAsDouble() * (step - half)));
  }

  /** Starts again from the initial step (after a successful connection). */
  public void reset() {
    attempt = 0;
  }
}
