package dev.jitaccess.api;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A subject's request for access to one cluster, as handed to the
 * {@link dev.jitaccess.api.spi.PolicyProvider}.
 *
 * <p>The cluster id is 1 to 63 characters of {@code [a-z0-9-]}, starting and ending with a letter or digit
 * (it appears in relay URLs and Kubernetes labels). The justification is optional free text of at most 1024
 * characters (a blank one counts as none). The requested TTL, when present, must be positive; the engine caps
 * it by the policy's maximum and its own grant TTL.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param subject who asks
 * @param cluster the id of the cluster asked for
 * @param justification why, or {@code null}
 * @param requestedTtl how long the access is wanted, or {@code null} for the engine's default
 * @since 0.1.0
 */
public record AccessRequest(
    Subject subject, String cluster, @Nullable String justification, @Nullable Duration requestedTtl) {

  /** The longest justification accepted, in characters. */
  public static final int MAX_JUSTIFICATION_LENGTH = 1024;

  /**
   * Validates the components.
   *
   * @throws NullPointerException if {@code subject} or {@code cluster} is null
   * @throws IllegalArgumentException if the cluster id is invalid, the justification too long or contains
   *     control characters, or the requested TTL is not positive
   */
  public AccessRequest {
    Objects.requireNonNull(subject, "subject");
    Checks.dnsLabel(cluster, "cluster");
    if (justification != null) {
      justification = justification.strip();
      if (justification.isEmpty()) {
        justification = null;
      } else if (justification.length() > MAX_JUSTIFICATION_LENGTH) {
        throw new IllegalArgumentException(
            "justification must be at most "
                + MAX_JUSTIFICATION_LENGTH
                + " characters but was "
                + justification.length());
      } else if (justification.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n')) {
        throw new IllegalArgumentException("justification must not contain control characters");
      }
    }
    if (requestedTtl != null) {
      Checks.positive(requestedTtl, "requestedTtl");
    }
  }

  /**
   * A request with no justification and the engine's default TTL.
   *
   * @param subject who asks
   * @param cluster the cluster id
   * @return the request
   * @throws IllegalArgumentException if the cluster id is invalid
   */
  public static AccessRequest of(Subject subject, String cluster) {
    return new AccessRequest(subject, cluster, null, null);
  }

  /**
   * Validates a cluster id without building a request.
   *
   * @param cluster a cluster id
   * @return the same id
   * @throws IllegalArgumentException if it is not 1-63 characters of {@code [a-z0-9-]} starting and ending
   *     with a letter or digit
   */
  public static String checkCluster(String cluster) {
    return Checks.dnsLabel(cluster, "cluster");
  }
}
