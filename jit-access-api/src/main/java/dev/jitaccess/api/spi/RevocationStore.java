package dev.jitaccess.api.spi;

import java.time.Instant;
import java.util.Map;

/**
 * Durable revocation tombstones for the relay agent: the time each subject's access was last revoked, kept
 * where the agent's own memory is not (for example a ConfigMap in the cluster), so that an agent restarted
 * with empty memory still refuses a grant issued before a revocation until that grant has expired.
 *
 * <p>A tombstone is needed only while a grant issued before it can still be valid: the caller passes
 * {@code keepUntil} (the revocation time plus the longest grant lifetime plus clock skew), and
 * implementations may drop the tombstone once {@code keepUntil} has passed.
 *
 * <p>Implementations are thread-safe. Both methods may block on I/O (the agent never calls them on an event
 * loop) and report failures as unchecked {@link dev.jitaccess.api.JitAccessException}s, typically a
 * {@link dev.jitaccess.api.ProvisioningException}. The agent treats a failed {@link #record} as "not yet
 * durable" and a failed {@link #load} as a reason not to serve (fail closed).
 *
 * @since 0.1.0
 */
public interface RevocationStore {

  /**
   * Records that every grant of {@code subjectId} issued at or before {@code revokedAt} is revoked, durably,
   * before returning.
   *
   * <p>Idempotent and order-insensitive: recording the same subject again keeps the later of the two
   * revocation times and the later of the two {@code keepUntil}s, so duplicate or reordered revocations
   * never shorten or move back a tombstone. Implementations may purge tombstones whose {@code keepUntil} has
   * passed while they write.
   *
   * @param subjectId the subject id as in {@link dev.jitaccess.api.Subject#id()}; not blank
   * @param revokedAt when the revocation took effect
   * @param keepUntil when the tombstone may be forgotten; not before {@code revokedAt}
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code subjectId} is blank or {@code keepUntil} is before
   *     {@code revokedAt}
   * @throws dev.jitaccess.api.JitAccessException if the tombstone could not be stored; it may be retried
   */
  void record(String subjectId, Instant revokedAt, Instant keepUntil);

  /**
   * Reads every tombstone still to be kept.
   *
   * @return an immutable map from subject id to the latest revocation time; tombstones whose
   *     {@code keepUntil} has passed may be left out
   * @throws dev.jitaccess.api.JitAccessException if the tombstones could not be read
   */
  Map<String, Instant> load();
}
