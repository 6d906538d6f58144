package dev.jitaccess.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The state of one access request: a subject asked for roles on a cluster for a time, with a justification,
 * and reviewers approve or deny it. Once enough approvals are recorded the request is {@link Status#ACTIVE}
 * from {@link #activatedAt()} until {@link #activeUntil()}, and the engine's grants for the requester on the
 * cluster include its permissions.
 *
 * <p>Each change produces a new instance with {@link #version()} one higher; an
 * {@link dev.jitaccess.api.spi.AccessRequestStore} uses the version for optimistic locking. The stored
 * {@link #status()} is not rewritten when time passes: {@link #statusAt(Instant)} tells the status at an
 * instant (a pending request past {@link #expiresAt()}, or an active one past {@link #activeUntil()}, is
 * {@link Status#EXPIRED}).
 *
 * <p>Instances are immutable and thread-safe. Collections are copied and unmodifiable.
 *
 * @param id the unique request id
 * @param requester who asked
 * @param cluster the cluster id
 * @param roles the policy roles asked for; not empty
 * @param permissions the permissions those roles give on the cluster; not empty
 * @param duration how long the access lasts once active; positive
 * @param justification why the requester needs it
 * @param createdAt when the request was made
 * @param expiresAt when a still pending request lapses; after {@code createdAt}
 * @param requiredApprovals how many approvals activate the request; 0 means at once
 * @param status the stored status
 * @param reviews the approvals and denials, oldest first
 * @param activatedAt when the request became active, or {@code null}
 * @param activeUntil when the access ends, or {@code null} while never active
 * @param extensions how often the active window was extended
 * @param extensionJustification the justification of the latest extension, or {@code null}
 * @param expiryNotified whether "expiring soon" was already announced for the current window
 * @param version the optimistic-locking version; 0 when created
 * @since 0.2.0
 */
public record AccessRequestState(
    String id,
    Subject requester,
    String cluster,
    List<String> roles,
    List<Permission> permissions,
    Duration duration,
    String justification,
    Instant createdAt,
    Instant expiresAt,
    int requiredApprovals,
    Status status,
    List<Review> reviews,
    @Nullable Instant activatedAt,
    @Nullable Instant activeUntil,
    int extensions,
    @Nullable String extensionJustification,
    boolean expiryNotified,
    long version) {

  /** Where a request stands. */
  public enum Status {
    /** Waiting for reviews. */
    PENDING,
    /** Approved; access is granted from {@code activatedAt} until {@code activeUntil}. */
    ACTIVE,
    /** A reviewer denied it. */
    DENIED,
    /** The requester withdrew it (pending or active). */
    CANCELLED,
    /** It lapsed: pending past {@code expiresAt}, or active past {@code activeUntil}. */
    EXPIRED,
    /** Its access was revoked while active. */
    REVOKED;

    /**
     * Whether nothing can change a request in this status any more (all but PENDING and ACTIVE).
     *
     * @return true for a final status
     */
    public boolean isFinal() {
      return this != PENDING && this != ACTIVE;
    }
  }

  /** A reviewer's answer. */
  public enum Verdict {
    /** The reviewer approves. */
    APPROVE,
    /** The reviewer denies; one denial ends the request. */
    DENY
  }

  /**
   * One review of a request. Immutable and thread-safe.
   *
   * @param reviewerId the reviewer's subject id
   * @param verdict approve or deny
   * @param comment the reviewer's comment or reason, or {@code null}
   * @param at when the review was made
   * @since 0.2.0
   */
  public record Review(String reviewerId, Verdict verdict, @Nullable String comment, Instant at) {
    /**
     * Validates the components.
     *
     * @throws NullPointerException if the reviewer id, verdict or time is null
     * @throws IllegalArgumentException if the reviewer id is invalid
     */
    public Review {
      reviewerId = Checks.id(reviewerId, "reviewerId");
      Objects.requireNonNull(verdict, "verdict");
      Objects.requireNonNull(at, "at");
      if (comment != null && comment.isBlank()) {
        comment = null;
      }
    }
  }

  /**
   * Validates and copies the components.
   *
   * @throws NullPointerException if a component that is not {@code @Nullable} is null
   * @throws IllegalArgumentException if a value is out of range (the message names it): blank id or
   *     justification, invalid cluster, no role or permission, non-positive duration, {@code expiresAt} not
   *     after {@code createdAt}, a negative count or version, only one of {@code activatedAt} and
   *     {@code activeUntil}, or an {@code ACTIVE} request without them
   */
  public AccessRequestState {
    id = Checks.id(id, "id");
    Objects.requireNonNull(requester, "requester");
    Checks.dnsLabel(cluster, "cluster");
    roles = List.copyOf(roles);
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("roles must not be empty");
    }
    permissions = List.copyOf(permissions);
    if (permissions.isEmpty()) {
      throw new IllegalArgumentException("permissions must not be empty");
    }
    Checks.positive(duration, "duration");
    Objects.requireNonNull(justification, "justification");
    if (justification.isBlank()) {
      throw new IllegalArgumentException("justification must not be blank");
    }
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
    if (!expiresAt.isAfter(createdAt)) {
      throw new IllegalArgumentException(
          "expiresAt must be after createdAt but was " + expiresAt + " <= " + createdAt);
    }
    if (requiredApprovals < 0) {
      throw new IllegalArgumentException("requiredApprovals must not be negative but was " + requiredApprovals);
    }
    Objects.requireNonNull(status, "status");
    reviews = List.copyOf(reviews);
    if ((activatedAt == null) != (activeUntil == null)) {
      throw new IllegalArgumentException("activatedAt and activeUntil must be both set or both null");
    }
    if (status == Status.ACTIVE && activatedAt == null) {
      throw new IllegalArgumentException("an ACTIVE request needs activatedAt and activeUntil");
    }
    if (activatedAt != null && !activeUntil.isAfter(activatedAt)) {
      throw new IllegalArgumentException(
          "activeUntil must be after activatedAt but was " + activeUntil + " <= " + activatedAt);
    }
    if (extensions < 0) {
      throw new IllegalArgumentException("extensions must not be negative but was " + extensions);
    }
    if (extensionJustification != null && extensionJustification.isBlank()) {
      extensionJustification = null;
    }
    if (version < 0) {
      throw new IllegalArgumentException("version must not be negative but was " + version);
    }
  }

  /**
   * The number of approvals recorded.
   *
   * @return how many reviews approve
   */
  public int approvals() {
    return (int) reviews.stream().filter(r -> r.verdict() == Verdict.APPROVE).count();
  }

  /**
   * Whether the subject already reviewed this request.
   *
   * @param reviewerId a subject id
   * @return true if a review by that id is recorded
   */
  public boolean reviewedBy(String reviewerId) {
    return reviews.stream().anyMatch(r -> r.reviewerId().equals(reviewerId));
  }

  /**
   * The status at an instant: the stored status, except that a pending request at or after
   * {@link #expiresAt()} and an active one at or after {@link #activeUntil()} are {@link Status#EXPIRED}.
   *
   * @param now the instant
   * @return the effective status
   * @throws NullPointerException if {@code now} is null
   */
  public Status statusAt(Instant now) {
    Objects.requireNonNull(now, "now");
    if (status == Status.PENDING && !now.isBefore(expiresAt)) {
      return Status.EXPIRED;
    }
    if (status == Status.ACTIVE && activeUntil != null && !now.isBefore(activeUntil)) {
      return Status.EXPIRED;
    }
    return status;
  }

  /**
   * Whether the request grants access at an instant.
   *
   * @param now the instant
   * @return true when it is {@link Status#ACTIVE} at {@code now}
   */
  public boolean isActiveAt(Instant now) {
    return statusAt(now) == Status.ACTIVE;
  }
}
