package dev.jitaccess.relay.internal;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.spi.RevocationStore;
import dev.jitaccess.core.GrantVerifier;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * What the agent knows about grants beyond their signature: revocation tombstones (subject and time; grants
 * issued in or before the revocation's second are refused, as in the engine) and the open streams of each
 * subject, closed at once on revocation and at their grant's expiry (Kubernetes only authorizes a watch or
 * exec when it starts).
 *
 * <p>Tombstones live in memory for fast checks and in the {@link RevocationStore} for restarts: they are
 * {@linkplain #load() loaded} before the agent serves, and each revocation takes effect in memory at once and
 * is then {@linkplain #persist persisted}. A tombstone is kept for {@code retention} (the longest grant
 * lifetime plus skew) after its revocation. Repeated revocations keep the latest time, so duplicate and
 * reordered revoke messages are harmless (they can only refuse more). The relay sends the same revoke message
 * (same message id) over each of the agent's tunnels; {@link #firstDelivery} lets the agent act on it once.
 * Thread-safe.
 */
final class AgentGrants {
  /** One revocation, with the time after which no grant it covers can still be valid. */
  record Tombstone(Instant revokedAt, Instant keepUntil) {
    Tombstone later(Tombstone other) {
      return new Tombstone(
          revokedAt.isAfter(other.revokedAt) ? revokedAt : other.revokedAt,
          keepUntil.isAfter(other.keepUntil) ? keepUntil : other.keepUntil);
    }
  }

  /** How long a revoke message id is remembered: its copies over the other tunnels arrive within moments. */
  static final Duration REVOKE_MESSAGE_MEMORY = Duration.ofMinutes(10);

  private final InstantSource clock;
  private final Duration retention;
  private final RevocationStore store;
  private final Map<String, Tombstone> tombstones = new ConcurrentHashMap<>();
  private final Map<String, Set<Channel>> openStreams = new ConcurrentHashMap<>();
  /** The outcome (durably stored or not) of each recent revoke message, by the relay's message id. */
  private final Cache<String, CompletableFuture<Boolean>> revokeMessages;

  AgentGrants(InstantSource clock, Duration retention, RevocationStore store) {
    this.clock = clock;
    this.retention = retention;
    this.store = store;
    this.revokeMessages =
        Caffeine.newBuilder()
            .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
            .expireAfterWrite(REVOKE_MESSAGE_MEMORY)
            .maximumSize(10_000)
            .build();
  }

  /**
   * Claims a revoke message: the first delivery of an id acts on it and completes {@code outcome}; a copy that
   * arrived over another tunnel gets the first delivery's outcome instead, to answer the same.
   *
   * @param messageId the relay's id of the revoke message
   * @param outcome completed by the caller with whether the revocation was stored durably, if it is the first
   * @return null for the first delivery, else the first delivery's outcome
   */
  @Nullable CompletableFuture<Boolean> firstDelivery(String messageId, CompletableFuture<Boolean> outcome) {
    return revokeMessages.asMap().putIfAbsent(messageId, outcome);
  }

  /**
   * Reads the durable tombstones into memory. Blocks on the store.
   *
   * @return how many were loaded
   * @throws dev.jitaccess.api.JitAccessException if the store failed
   */
  int load() {
    Map<String, Instant> loaded = store.load();
    loaded.forEach((subject, at) -> remember(subject, new Tombstone(at, at.plus(retention))));
    return loaded.size();
  }

  /**
   * Whether a grant was revoked: its subject has a tombstone whose second is not before the grant's issue
   * second (JWT times are whole seconds, so the same second counts as revoked, the safe side).
   *
   * @param grant a verified grant
   * @return true when it must be refused
   */
  boolean isRevoked(Grant grant) {
    Tombstone t = tombstones.get(grant.subject().id());
    return t != null && grant.issuedAt().getEpochSecond() <= t.revokedAt().getEpochSecond();
  }

  /**
   * Records a revocation now, in memory, and closes the subject's open streams. Never blocks; make it
   * durable with {@link #persist}.
   *
   * @param subjectId the subject
   * @param issuerTime the revocation's time on the clock of the engine that issues the grants, or null; grants
   *     carry that clock's times, so the tombstone takes it when it is later than this agent's now (a lagging
   *     agent would otherwise accept grants issued between its now and the engine's)
   * @return the tombstone to persist
   */
  Tombstone revoke(String subjectId, @Nullable Instant issuerTime) {
    Instant now = clock.instant();
    Instant revokedAt = issuerTime != null && issuerTime.isAfter(now) ? issuerTime : now;
    tombstones.values().removeIf(t -> t.keepUntil().isBefore(now));
    Tombstone tombstone = remember(subjectId, new Tombstone(revokedAt, revokedAt.plus(retention)));
    Set<Channel> streams = openStreams.getOrDefault(subjectId, Set.of());
    for (Channel stream : streams) {
      stream.close();
    }
    return tombstone;
  }

  /**
   * Writes a tombstone to the durable store. Blocks: never call on an event loop.
   *
   * @throws dev.jitaccess.api.JitAccessException if the store failed
   */
  void persist(String subjectId, Tombstone tombstone) {
    store.record(subjectId, tombstone.revokedAt(), tombstone.keepUntil());
  }

  private Tombstone remember(String subjectId, Tombstone tombstone) {
    return tombstones.merge(subjectId, tombstone, Tombstone::later);
  }

  /**
   * Tracks an open stream under its grant: closed on revocation of the subject and at the grant's expiry.
   *
   * @param grant the verified grant
   * @param stream the stream channel
   * @return false when the stream was closed already (revoked meanwhile or gone)
   */
  boolean track(Grant grant, Channel stream) {
    String subjectId = grant.subject().id();
    openStreams.computeIfAbsent(subjectId, s -> ConcurrentHashMap.newKeySet()).add(stream);
    // Closed when the grant ends with the same tolerance its verification allows, so that a stream admitted
    // within the skew is not cut at once.
    Duration left = Duration.between(clock.instant(), grant.expiresAt().plus(GrantVerifier.CLOCK_SKEW));
    ScheduledFuture<?> expiry =
        stream.eventLoop().schedule(() -> stream.close(), Math.max(0, left.toNanos()), TimeUnit.NANOSECONDS);
    stream.closeFuture()
        .addListener(
            f -> {
              expiry.cancel(false);
              openStreams.computeIfPresent(
                  subjectId,
                  (s, set) -> {
                    set.remove(stream);
                    return set.isEmpty() ? null : set;
                  });
            });
    if (isRevoked(grant)) {
      stream.close(); // a revocation raced with this request: it wins
      return false;
    }
    return stream.isActive();
  }
}
