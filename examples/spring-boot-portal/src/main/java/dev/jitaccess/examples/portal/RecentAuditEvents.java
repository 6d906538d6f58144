package dev.jitaccess.examples.portal;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.spi.AuditSink;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Predicate;
import org.springframework.stereotype.Component;

/**
 * The latest audit events in memory, for the portal's audit page. The starter hands every {@link AuditSink} bean to
 * the engine, so this one sees every event next to the log and file sinks. The durable trail is the JSON Lines file
 * ({@code jitaccess.audit.file}). Thread-safe.
 */
@Component
public class RecentAuditEvents implements AuditSink {
  /** How many events are kept. */
  public static final int CAPACITY = 1000;

  private final Deque<AuditEvent> events = new ArrayDeque<>();

  /** Creates an empty buffer. */
  public RecentAuditEvents() {}

  @Override
  public synchronized void record(AuditEvent event) {
    if (events.size() == CAPACITY) {
      events.removeFirst();
    }
    events.addLast(event);
  }

  /**
   * The newest matching events, newest first.
   *
   * @param filter which events
   * @param limit at most this many
   * @return a snapshot
   */
  public synchronized List<AuditEvent> newest(Predicate<AuditEvent> filter, int limit) {
    List<AuditEvent> result = new ArrayList<>();
    var it = events.descendingIterator();
    while (it.hasNext() && result.size() < limit) {
      AuditEvent e = it.next();
      if (filter.test(e)) {
        result.add(e);
      }
    }
    return result;
  }
}
