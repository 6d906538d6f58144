package dev.jitaccess.testkit;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/** A fake clock for tests: it stands still until told to move. Thread-safe. */
public final class MutableInstantSource implements InstantSource {
  private final AtomicReference<Instant> now;

  private MutableInstantSource(Instant start) {
    this.now = new AtomicReference<>(Objects.requireNonNull(start, "start"));
  }

  /** A clock standing at the given instant. */
  public static MutableInstantSource at(Instant start) {
    return new MutableInstantSource(start);
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  /** Moves the clock forward (or back, for a negative duration). */
  public void advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    now.updateAndGet(t -> t.plus(duration));
  }

  /** Sets the clock to the given instant. */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }
}
