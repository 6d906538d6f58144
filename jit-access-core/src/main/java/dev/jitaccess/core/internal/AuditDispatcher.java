package dev.jitaccess.core.internal;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.spi.AuditSink;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands every audit event to every sink, guarding each call. A sink that throws never breaks the caller: the
 * failure is logged at WARN once per failure streak of that sink (and at INFO when it recovers), and a
 * {@link AuditEvent.Type#WARNING} naming the sink and the event type goes to the other sinks, so the gap is
 * visible in the trail itself. Thread-safe.
 */
public final class AuditDispatcher {
  private static final Logger log = LoggerFactory.getLogger(AuditDispatcher.class);

  private final List<Guarded> sinks;

  /** A dispatcher for the sinks, in order; the list is copied. */
  public AuditDispatcher(List<AuditSink> sinks) {
    List<Guarded> guarded = new ArrayList<>();
    for (AuditSink sink : sinks) {
      guarded.add(new Guarded(sink));
    }
    this.sinks = List.copyOf(guarded);
  }

  /** Whether any sink is configured. */
  public boolean hasSinks() {
    return !sinks.isEmpty();
  }

  /**
   * Records the event in every sink.
   *
   * @return true when at least one sink accepted it, or when there are no sinks at all
   */
  public boolean dispatch(AuditEvent event) {
    if (sinks.isEmpty()) {
      return true;
    }
    boolean accepted = false;
    List<Guarded> failed = null;
    for (Guarded sink : sinks) {
      if (sink.record(event)) {
        accepted = true;
      } else {
        if (failed == null) {
          failed = new ArrayList<>(1);
        }
        failed.add(sink);
      }
    }
    if (failed != null) {
      for (Guarded sink : failed) {
        warnOthers(event, sink);
      }
    }
    return accepted;
  }

  private void warnOthers(AuditEvent event, Guarded failed) {
    AuditEvent warning =
        new AuditEvent(
            event.time(),
            AuditEvent.Type.WARNING,
            event.subjectId(),
            event.cluster(),
            event.grantId(),
            "audit sink '" + failed.id + "' failed to record a " + event.type() + " event",
            Map.of("sink", failed.id, "eventType", event.type().name()));
    for (Guarded other : sinks) {
      if (other != failed) {
        other.record(warning); // a failure here is logged by the guard; no warnings about warnings
      }
    }
  }

  /** One sink with its failure-streak flag. */
  private static final class Guarded {
    final AuditSink sink;
    final String id;
    final AtomicBoolean failing = new AtomicBoolean();

    Guarded(AuditSink sink) {
      this.sink = sink;
      this.id = safeId(sink);
    }

    boolean record(AuditEvent event) {
      try {
        sink.record(event);
      } catch (RuntimeException e) {
        if (failing.compareAndSet(false, true)) {
          // Once per streak: a sink that is down would otherwise flood the log on every request.
          log.warn(
              "Audit sink '{}' failed to record a {} event; further failures are not logged until it"
                  + " recovers",
              id,
              event.type(),
              e);
        }
        return false;
      }
      if (failing.compareAndSet(true, false)) {
        log.info("Audit sink '{}' recovered", id);
      }
      return true;
    }

    private static String safeId(AuditSink sink) {
      try {
        return sink.id();
      } catch (RuntimeException e) {
        return sink.getClass().getName();
      }
    }
  }
}
