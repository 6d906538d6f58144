package dev.jitaccess.api;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Something about an access request that people should hear of, handed to a
 * {@link dev.jitaccess.api.spi.Notifier}.
 *
 * <p>Instances are immutable and thread-safe. They never carry a token or key.
 *
 * @param kind what happened
 * @param request the request after the change
 * @param time when it happened
 * @param actorId who caused it (requester or reviewer), or {@code null} when the engine did
 * @param comment the reviewer's comment, denial reason or extension justification, or {@code null}
 * @since 0.2.0
 */
public record Notification(
    Kind kind, AccessRequestState request, Instant time, @Nullable String actorId, @Nullable String comment) {

  /** What a {@link Notification} announces. */
  public enum Kind {
    /** A request was made and waits for reviewers (or was activated at once). */
    CREATED,
    /** A reviewer approved, and more approvals are needed. */
    APPROVAL_RECORDED,
    /** The request got its last approval and is active. */
    APPROVED,
    /** A reviewer denied the request. */
    DENIED,
    /** The requester withdrew the request. */
    CANCELLED,
    /** The requester extended the active window. */
    EXTENDED,
    /** The active window ends soon. */
    EXPIRING_SOON,
    /** The access was revoked. */
    REVOKED
  }

  /**
   * Validates the components.
   *
   * @throws NullPointerException if {@code kind}, {@code request} or {@code time} is null
   */
  public Notification {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(time, "time");
  }
}
