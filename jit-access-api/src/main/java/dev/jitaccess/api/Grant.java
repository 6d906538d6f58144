package dev.jitaccess.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Permission for one subject to use one cluster with a set of permissions, from {@code issuedAt} until
 * {@code expiresAt}.
 *
 * <p>The engine creates grants, caches them for at most the grant TTL and signs them; the agent verifies the
 * signed form and provisions a ServiceAccount with exactly these permissions. The id is unique per grant and
 * is the link between the decision, the signed token and every audited call made under it.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param id the unique grant id
 * @param subject who may act
 * @param cluster the cluster id
 * @param permissions what they may do; non-empty, copied
 * @param issuedAt when the grant was made
 * @param expiresAt when it ends; after {@code issuedAt}
 * @param justification the reason the subject gave, or {@code null}
 * @since 0.1.0
 */
public record Grant(
    String id,
    Subject subject,
    String cluster,
    List<Permission> permissions,
    Instant issuedAt,
    Instant expiresAt,
    @Nullable String justification) {

  /**
   * Validates the components.
   *
   * @throws NullPointerException if a component other than the justification is null
   * @throws IllegalArgumentException if the id is blank, the cluster id invalid, there is no permission, or
   *     {@code expiresAt} is not after {@code issuedAt}
   */
  public Grant {
    id = Checks.id(id, "id");
    Objects.requireNonNull(subject, "subject");
    Checks.dnsLabel(cluster, "cluster");
    permissions = List.copyOf(permissions);
    if (permissions.isEmpty()) {
      throw new IllegalArgumentException("permissions must not be empty");
    }
    Objects.requireNonNull(issuedAt, "issuedAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
    if (!expiresAt.isAfter(issuedAt)) {
      throw new IllegalArgumentException(
          "expiresAt must be after issuedAt but was " + expiresAt + " <= " + issuedAt);
    }
    if (justification != null && justification.isBlank()) {
      justification = null;
    }
  }

  /**
   * A grant without a justification.
   *
   * @param id the unique grant id
   * @param subject who may act
   * @param cluster the cluster id
   * @param permissions what they may do
   * @param issuedAt when the grant was made
   * @param expiresAt when it ends
   */
  public Grant(
      String id,
      Subject subject,
      String cluster,
      List<Permission> permissions,
      Instant issuedAt,
      Instant expiresAt) {
    this(id, subject, cluster, permissions, issuedAt, expiresAt, null);
  }

  /**
   * Whether the grant has ended at the given instant.
   *
   * @param now the instant to test
   * @return true when {@code now} is at or after {@link #expiresAt()}
   */
  public boolean isExpiredAt(Instant now) {
    return !now.isBefore(expiresAt);
  }

  /**
   * The grant's full lifetime.
   *
   * @return the time from {@link #issuedAt()} to {@link #expiresAt()}
   */
  public Duration lifetime() {
    return Duration.between(issuedAt, expiresAt);
  }
}
