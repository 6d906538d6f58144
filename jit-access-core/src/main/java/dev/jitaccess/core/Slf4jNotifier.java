package dev.jitaccess.core;

import dev.jitaccess.api.Notification;
import dev.jitaccess.api.spi.Notifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Notifier} that writes one INFO line per notification to the logger
 * {@code dev.jitaccess.core.Slf4jNotifier}: kind, request id, requester, cluster, roles, status and actor.
 * The engine's default when no notifier is configured. Never logs the justification text or comments (they
 * are in the audit trail).
 *
 * <p>Thread-safe and stateless.
 *
 * @since 0.2.0
 */
public final class Slf4jNotifier implements Notifier {
  private static final Logger log = LoggerFactory.getLogger(Slf4jNotifier.class);

  /** A notifier writing to slf4j. */
  public Slf4jNotifier() {}

  @Override
  public void notify(Notification notification) {
    log.info(
        "Access request {} {}: requester={} cluster={} roles={} status={} actor={}",
        notification.request().id(),
        notification.kind(),
        notification.request().requester().id(),
        notification.request().cluster(),
        notification.request().roles(),
        notification.request().status(),
        notification.actorId());
  }
}
