package dev.jitaccess.relay;

import dev.jitaccess.api.spi.RevocationStore;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link RevocationStore} in this process's memory: the {@link RelayAgent}'s default, and a fake for tests.
 * Tombstones do <em>not</em> survive a restart of the process; in a cluster use a durable store such as
 * jit-access-k8s's {@code ConfigMapRevocationStore}. Sharing one instance between agents in one JVM makes a
 * "restarted" agent see its predecessor's tombstones.
 *
 * <p>Tombstones whose {@code keepUntil} has passed are purged on each {@link #record} and left out of
 * {@link #load}. Thread-safe; never blocks on I/O.
 *
 * @since 0.1.0
 */
public final class InMemoryRevocationStore implements RevocationStore {
  private record Tombstone(Instant revokedAt, Instant keepUntil) {}

  private final InstantSource clock;
  private final Map<String, Tombstone> tombstones = new HashMap<>();

  /** A store judging expiry by the system clock. */
  public InMemoryRevocationStore() {
    this(InstantSource.system());
  }

  /**
   * A store judging expiry by the given clock.
   *
   * @param clock the clock
   * @throws NullPointerException if null
   */
  public InMemoryRevocationStore(InstantSource clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * {@inheritDoc}
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code subjectId} is blank or {@code keepUntil} is before
   *     {@code revokedAt}
   */
  @Override
  public synchronized void record(String subjectId, Instant revokedAt, Instant keepUntil) {
    Objects.requireNonNull(subjectId, "subjectId");
    Objects.requireNonNull(revokedAt, "revokedAt");
    Objects.requireNonNull(keepUntil, "keepUntil");
    if (subjectId.isBlank()) {
      throw new IllegalArgumentException("subjectId must not be blank");
    }
    if (keepUntil.isBefore(revokedAt)) {
      throw new IllegalArgumentException(
          "keepUntil must not be before revokedAt " + revokedAt + " but was " + keepUntil);
    }
    Instant now = clock.instant();
    tombstones.values().removeIf(t -> t.keepUntil().isBefore(now));
    tombstones.merge(
        subjectId,
        new Tombstone(revokedAt, keepUntil),
        (old, next) ->
            new Tombstone(
                later(old.revokedAt(), next.revokedAt()), later(old.keepUntil(), next.keepUntil())));
  }

  @Override
  public synchronized Map<String, Instant> load() {
    Instant now = clock.instant();
    Map<String, Instant> live = new HashMap<>();
    tombstones.forEach(
        (subject, t) -> {
          if (!t.keepUntil().isBefore(now)) {
            live.put(subject, t.revokedAt());
          }
        });
    return Map.copyOf(live);
  }

  private static Instant later(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  @Override
  public String toString() {
    return "InMemoryRevocationStore";
  }
}
