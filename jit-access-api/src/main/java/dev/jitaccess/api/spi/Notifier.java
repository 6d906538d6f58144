package dev.jitaccess.api.spi;

import dev.jitaccess.api.Notification;

/**
 * Tells people about access requests: new ones to review, approvals, denials, windows that end soon.
 *
 * <p>Implementations must be thread-safe. The engine calls them synchronously after a change is stored, on
 * the caller's thread, so they should be quick or bound their own blocking (a timeout). A
 * {@link RuntimeException} is logged by the engine and never undoes or blocks the workflow: notifications are
 * best effort, the audit trail is the record.
 *
 * @since 0.2.0
 */
@FunctionalInterface
public interface Notifier {

  /**
   * Delivers one notification.
   *
   * @param notification what happened; never null
   * @throws RuntimeException if it could not be delivered (the engine logs it and carries on)
   */
  void notify(Notification notification);

  /**
   * A short, stable id for logs.
   *
   * @return the id; by default the simple class name
   */
  default String id() {
    return getClass().getSimpleName();
  }
}
