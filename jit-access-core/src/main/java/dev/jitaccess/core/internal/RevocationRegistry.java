package dev.jitaccess.core.internal;

import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Remembers revocations: the time of the latest full revocation of each subject (so that session tokens issued
 * before it are refused) and a sequence number per revocation (so that a grant whose policy evaluation raced
 * with a revocation is not handed out). Thread-safe.
 *
 * <p>Entries are kept for the life of the engine: one small entry per revoked subject and per revoked
 * (subject, cluster) pair.
 */
public final class RevocationRegistry {
  private final AtomicLong sequence = new AtomicLong();
  private final ConcurrentMap<String, Revocation> subjects = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Long> clusters = new ConcurrentHashMap<>();

  private record Revocation(Instant time, long sequence) {}

  /** The current sequence number; compare with {@link #revokedSince} after a slow operation. */
  public long sequence() {
    return sequence.get();
  }

  /** Records a revocation of everything the subject holds, at {@code time}. */
  public void revokeSubject(String subjectId, Instant time) {
    Objects.requireNonNull(time, "time");
    long seq = sequence.incrementAndGet();
    subjects.merge(
        subjectId,
        new Revocation(time, seq),
        (old, now) -> new Revocation(old.time.isAfter(now.time) ? old.time : now.time, now.sequence));
  }

  /** Records a revocation of the subject's access to one cluster. */
  public void revokeCluster(String subjectId, String cluster) {
    long seq = sequence.incrementAndGet();
    clusters.merge(clusterKey(subjectId, cluster), seq, Math::max);
  }

  /**
   * Whether a credential issued to the subject at {@code issuedAt} has been revoked: true when a full
   * revocation happened after it was issued. JWT times have whole-second precision, so a credential issued
   * within the same second as a revocation, before or after it, counts as revoked (the safe side); a credential
   * issued in a later second is not.
   */
  public boolean isRevoked(String subjectId, Instant issuedAt) {
    Revocation r = subjects.get(subjectId);
    return r != null && issuedAt.getEpochSecond() <= r.time.getEpochSecond();
  }

  /** Whether the subject, or its access to the cluster, was revoked after {@code sequence} was read. */
  public boolean revokedSince(String subjectId, String cluster, long sequence) {
    Revocation r = subjects.get(subjectId);
    if (r != null && r.sequence > sequence) {
      return true;
    }
    Long c = clusters.get(clusterKey(subjectId, cluster));
    return c != null && c > sequence;
  }

  private static String clusterKey(String subjectId, String cluster) {
    // Cluster ids are [a-z0-9-]: a space cannot occur in one, so the key is unambiguous.
    return cluster + " " + subjectId;
  }
}
