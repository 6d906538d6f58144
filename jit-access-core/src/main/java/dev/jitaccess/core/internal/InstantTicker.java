package dev.jitaccess.core.internal;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;

/**
 * Adapts an {@link InstantSource} to Caffeine's nanosecond {@link Ticker}, so that a fake clock in a test drives
 * cache expiry. Ticks count nanoseconds from the instant the ticker was created (a long of nanoseconds spans
 * 292 years either way). Thread-safe.
 */
public final class InstantTicker implements Ticker {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  /** The largest tick distance used: about 146 years, Caffeine's own maximum expiry. */
  public static final long LIMIT = Long.MAX_VALUE >> 1;

  private static final long MAX_SECONDS = LIMIT / NANOS_PER_SECOND - 1;

  private final InstantSource clock;
  private final long originSecond;
  private final int originNano;

  /** A ticker whose zero is the clock's current instant. */
  public InstantTicker(InstantSource clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    Instant origin = clock.instant();
    this.originSecond = origin.getEpochSecond();
    this.originNano = origin.getNano();
  }

  @Override
  public long read() {
    return toTicks(clock.instant());
  }

  /**
   * The tick value of an instant on this ticker's scale, saturated at {@link #LIMIT} either way (a far-future
   * token expiry must not overflow into the past).
   */
  public long toTicks(Instant instant) {
    long seconds = instant.getEpochSecond() - originSecond;
    if (seconds > MAX_SECONDS) {
      return LIMIT;
    }
    if (seconds < -MAX_SECONDS) {
      return -LIMIT;
    }
    return seconds * NANOS_PER_SECOND + (instant.getNano() - originNano);
  }
}
