package dev.jitaccess.core.internal;

import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.AccessRequestState.Review;
import dev.jitaccess.api.AccessRequestState.Status;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A mutable copy of an {@link AccessRequestState}, to build the next version of it. Not thread-safe. */
final class RequestDraft {
  private final AccessRequestState from;
  Status status;
  final List<Review> reviews;
  @Nullable Instant activatedAt;
  @Nullable Instant activeUntil;
  int extensions;
  @Nullable String extensionJustification;
  boolean expiryNotified;

  RequestDraft(AccessRequestState from) {
    this.from = from;
    this.status = from.status();
    this.reviews = new ArrayList<>(from.reviews());
    this.activatedAt = from.activatedAt();
    this.activeUntil = from.activeUntil();
    this.extensions = from.extensions();
    this.extensionJustification = from.extensionJustification();
    this.expiryNotified = from.expiryNotified();
  }

  /** The next version: the changed fields, the rest as before, version + 1. */
  AccessRequestState next() {
    return new AccessRequestState(
        from.id(),
        from.requester(),
        from.cluster(),
        from.roles(),
        from.permissions(),
        from.duration(),
        from.justification(),
        from.createdAt(),
        from.expiresAt(),
        from.requiredApprovals(),
        status,
        reviews,
        activatedAt,
        activeUntil,
        extensions,
        extensionJustification,
        expiryNotified,
        from.version() + 1);
  }
}
