package dev.jitaccess.relay.internal;

import dev.jitaccess.api.AuditEvent;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records the relay's per-request audit events off the event loop, in order, in batches: an event waits at most
 * {@link #DELAY} before one audit thread hands it and all that came meanwhile to the engine's sinks (which may
 * block). One wake-up per batch instead of one per request; nothing is dropped: {@link #close()} records what is
 * still queued, and an event recorded after close (or when the thread is gone) is recorded on the caller.
 *
 * <p>Thread-safe.
 */
public final class AuditBatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditBatcher.class);

  /** The longest an event waits for its batch. */
  public static final Duration DELAY = Duration.ofMillis(10);

  private final AccessEngine engine;
  private final ScheduledExecutorService thread;
  private final ConcurrentLinkedQueue<AuditEvent> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile boolean closed;

  /** Starts the audit thread ({@code jit-relay-audit}, a daemon). */
  public AuditBatcher(AccessEngine engine) {
    this.engine = engine;
    this.thread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "jit-relay-audit");
              t.setDaemon(true);
              return t;
            });
  }

  /** Queues an event; never blocks unless the batcher is closed (then the event is recorded here). */
  public void record(AuditEvent event) {
    if (closed) {
      recordNow(event);
      return;
    }
    queue.add(event);
    if (scheduled.compareAndSet(false, true)) {
      try {
        thread.schedule(this::drain, DELAY.toNanos(), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException closing) {
        scheduled.set(false);
        drain();
      }
    }
  }

  private void drain() {
    scheduled.set(false);
    AuditEvent event;
    while ((event = queue.poll()) != null) {
      recordNow(event);
    }
  }

  private void recordNow(AuditEvent event) {
    try {
      engine.audit(event);
    } catch (RuntimeException e) {
      // The engine's guarded sinks report their own failures; this only keeps the audit thread alive.
      log.error("Recording an audit event failed: {}", e.toString());
    }
  }

  /** Stops the thread after recording everything queued. Idempotent. */
  @Override
  public void close() {
    closed = true;
    thread.shutdown();
    try {
      if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    drain(); // what the cancelled delayed drain would have recorded
  }
}
