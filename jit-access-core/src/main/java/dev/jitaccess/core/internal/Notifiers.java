package dev.jitaccess.core.internal;

import dev.jitaccess.api.Notification;
import dev.jitaccess.api.spi.Notifier;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Hands each notification to every notifier; a failing notifier is logged and never breaks the caller. */
public final class Notifiers {
  private static final Logger log = LoggerFactory.getLogger(Notifiers.class);

  private final List<Notifier> notifiers;

  /** Notifiers in order; the list is copied. */
  public Notifiers(List<Notifier> notifiers) {
    this.notifiers = List.copyOf(notifiers);
  }

  /** Delivers to every notifier; never throws. */
  public void send(Notification notification) {
    for (Notifier notifier : notifiers) {
      try {
        notifier.notify(notification);
      } catch (RuntimeException e) {
        log.warn(
            "Notifier '{}' failed for the {} notification of access request {}; the workflow goes on",
            safeId(notifier),
            notification.kind(),
            notification.request().id(),
            e);
      }
    }
  }

  private static String safeId(Notifier notifier) {
    try {
      return notifier.id();
    } catch (RuntimeException e) {
      return notifier.getClass().getName();
    }
  }
}
