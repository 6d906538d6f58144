package dev.jitaccess.core.internal;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Clock;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Adapts an {@link InstantSource} to Caffeine's nanosecond {@link Ticker}, so that a fake clock in a test drives
 * cache expiry. Ticks count nanoseconds from the instant the ticker was created (a long of nanoseconds spans
 * 292 years either way). Thread-safe.
 *
 * <p>The system clock is read with {@link System#currentTimeMillis()} (a JIT intrinsic) instead of {@link
 * InstantSource#instant()}, whose native call and {@code Instant} were the most expensive frame of the warm
 * {@code authorize} path (every cache read reads the ticker). A millisecond reading is turned into the
 * <em>last</em> nanosecond of that millisecond, so an entry never outlives its end: an end on a whole
 * millisecond (grant and token expiries are whole seconds) expires exactly on time, any other end at most one
 * millisecond early.
 */
public final class InstantTicker implements Ticker {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;
  private static final long NANOS_PER_MILLI = 1_000_000L;

  /** The largest tick distance used: about 146 years, Caffeine's own maximum expiry. */
  public static final long LIMIT = Long.MAX_VALUE >> 1;

  private static final long MAX_SECONDS = LIMIT / NANOS_PER_SECOND - 1;

  private final InstantSource clock;
  private final @Nullable LongSupplier millis;
  private final long originSecond;
  private final int originNano;

  /** A ticker whose zero is the clock's current instant. */
  public InstantTicker(InstantSource clock) {
    this(clock, isSystem(clock) ? System::currentTimeMillis : null);
  }

  /**
   * A ticker that reads {@code millis} (milliseconds since the epoch, the same time line as {@code clock}) when
   * it is not null, and {@code clock} otherwise. Visible for tests.
   */
  InstantTicker(InstantSource clock, @Nullable LongSupplier millis) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.millis = millis;
    Instant origin = clock.instant();
    this.originSecond = origin.getEpochSecond();
    this.originNano = origin.getNano();
  }

  /** Whether the source is the system clock (in any time zone), which {@code currentTimeMillis} reads. */
  static boolean isSystem(InstantSource clock) {
    return clock.equals(InstantSource.system())
        || (clock instanceof Clock c && c.equals(Clock.system(c.getZone())));
  }

  @Override
  public long read() {
    LongSupplier m = millis;
    if (m == null) {
      return toTicks(clock.instant());
    }
    long now = m.getAsLong();
    return ticks(
        Math.floorDiv(now, 1000L), Math.floorMod(now, 1000L) * NANOS_PER_MILLI + (NANOS_PER_MILLI - 1));
  }

  /**
   * The tick value of an instant on this ticker's scale, saturated at {@link #LIMIT} either way (a far-future
   * token expiry must not overflow into the past).
   */
  public long toTicks(Instant instant) {
    return ticks(instant.getEpochSecond(), instant.getNano());
  }

  private long ticks(long epochSecond, long nano) {
    long seconds = epochSecond - originSecond;
    if (seconds > MAX_SECONDS) {
      return LIMIT;
    }
    if (seconds < -MAX_SECONDS) {
      return -LIMIT;
    }
    return seconds * NANOS_PER_SECOND + (nano - originNano);
  }
}
