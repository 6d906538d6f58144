package dev.jitaccess.core;

import org.jspecify.annotations.Nullable;

/**
 * Told about each revocation after it took effect in the engine. See
 * {@link JitAccess#addRevocationListener(RevocationListener)}.
 *
 * <p>Implementations must be thread-safe and fast; they run on the thread that called {@code revoke}.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface RevocationListener {

  /**
   * A subject's access was revoked.
   *
   * @param subjectId the subject
   * @param cluster the one cluster revoked, or {@code null} when every cluster was
   */
  void revoked(String subjectId, @Nullable String cluster);
}
