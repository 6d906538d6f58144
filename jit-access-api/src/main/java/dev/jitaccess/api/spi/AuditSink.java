package dev.jitaccess.api.spi;

import dev.jitaccess.api.AuditEvent;

/**
 * Receives the audit trail.
 *
 * <p>Implementations must be thread-safe and fast, and should not throw. The engine guards every call: an
 * exception makes the failure visible (a log line and a {@link AuditEvent.Type#WARNING} to the other sinks)
 * and, by default, a grant whose record no sink accepted is refused.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface AuditSink {

  /**
   * Records one event.
   *
   * @param event the event; never null
   * @throws RuntimeException if the event could not be recorded (the engine handles it)
   */
  void record(AuditEvent event);

  /**
   * A short, stable id for logs and warnings.
   *
   * @return the id; by default the simple class name
   */
  default String id() {
    return getClass().getSimpleName();
  }
}
