package dev.jitaccess.relay.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.jitaccess.api.Grant;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * What the agent knows about grants beyond their signature: revocation tombstones (subject and time; grants
 * issued at or before it are refused) and the open streams of each subject, closed at once on revocation
 * and at their grant's expiry (Kubernetes only authorizes a watch or exec when it starts).
 *
 * <p>Tombstones are held in memory for {@code retention}; keeping them in the cluster is not done yet.
 * Thread-safe.
 */
final class AgentGrants {
  private final InstantSource clock;
  private final Cache<String, Instant> tombstones;
  private final Map<String, Set<Channel>> openStreams = new ConcurrentHashMap<>();

  AgentGrants(InstantSource clock, Duration retention) {
    this.clock = clock;
    this.tombstones =
        Caffeine.newBuilder()
            .maximumSize(100_000)
            .ticker(() -> ChronoUnit.NANOS.between(Instant.EPOCH, clock.instant()))
            .expireAfterWrite(retention)
            .build();
  }

  /**
   * Whether a grant was revoked: its subject has a tombstone not before the grant's issue time.
   *
   * @param grant a verified grant
   * @return true when it must be refused
   */
  boolean isRevoked(Grant grant) {
    @Nullable Instant revokedAt = tombstones.getIfPresent(grant.subject().id());
    return revokedAt != null && !grant.issuedAt().isAfter(revokedAt);
  }

  /**
   * Records a revocation now and closes the subject's open streams.
   *
   * @param subjectId the subject
   */
  void revoke(String subjectId) {
    Instant now = clock.instant();
    tombstones.asMap().merge(subjectId, now, (old, next) -> next.isAfter(old) ? next : old);
    Set<Channel> streams = openStreams.getOrDefault(subjectId, Set.of());
    for (Channel stream : streams) {
      stream.close();
    }
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
    Duration left = Duration.between(clock.instant(), grant.expiresAt());
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
