package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.relay.TunnelFakes.FakeEngine;
import dev.jitaccess.relay.TunnelFakes.MutableClock;
import dev.jitaccess.relay.internal.AuditBatcher;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

final class AuditBatcherTest {
  private static AuditEvent event(int i) {
    return new AuditEvent(
        Instant.parse("2030-01-01T00:00:00Z"), AuditEvent.Type.REQUEST, "alice", "prod", "g-1", "call " + i);
  }

  private static List<String> details(List<AuditEvent> events) {
    return events.stream().map(AuditEvent::detail).collect(Collectors.toList());
  }

  @Test
  void recordsEveryEventInOrderOnTheAuditThreadWithoutBlockingTheCaller() throws Exception {
    CountDownLatch sinkMayGo = new CountDownLatch(1);
    Set<String> threads = ConcurrentHashMap.newKeySet();
    FakeEngine engine =
        new FakeEngine(new MutableClock()) {
          @Override
          public void audit(AuditEvent event) {
            threads.add(Thread.currentThread().getName());
            try {
              sinkMayGo.await(); // a slow sink: the callers below must not wait for it
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            super.audit(event);
          }
        };
    try (AuditBatcher batcher = new AuditBatcher(engine)) {
      for (int i = 0; i < 500; i++) {
        batcher.record(event(i));
      }
      assertThat(engine.audits).isEmpty();
      sinkMayGo.countDown();

      await().atMost(Duration.ofSeconds(5)).until(() -> engine.audits.size() == 500);
    }
    assertThat(details(engine.audits))
        .containsExactlyElementsOf(IntStream.range(0, 500).mapToObj(i -> "call " + i).collect(Collectors.toList()));
    assertThat(threads).containsExactly("jit-relay-audit");
  }

  @Test
  void closeRecordsWhatIsStillQueuedAndLaterEventsAreRecordedByTheCaller() {
    FakeEngine engine = new FakeEngine(new MutableClock());
    AuditBatcher batcher = new AuditBatcher(engine);
    for (int i = 0; i < 3; i++) {
      batcher.record(event(i));
    }

    batcher.close(); // well within the batch delay: the queued events are not lost
    assertThat(details(engine.audits)).containsExactly("call 0", "call 1", "call 2");

    batcher.record(event(3));
    assertThat(details(engine.audits)).containsExactly("call 0", "call 1", "call 2", "call 3");
    batcher.close(); // idempotent
  }

  @Test
  void aFailingEngineDoesNotStopLaterEvents() {
    FakeEngine engine =
        new FakeEngine(new MutableClock()) {
          @Override
          public void audit(AuditEvent event) {
            if (event.detail().equals("call 0")) {
              throw new IllegalStateException("sink down");
            }
            super.audit(event);
          }
        };
    try (AuditBatcher batcher = new AuditBatcher(engine)) {
      batcher.record(event(0));
      batcher.record(event(1));
      await().atMost(Duration.ofSeconds(5)).until(() -> engine.audits.size() == 1);
    }
    assertThat(details(engine.audits)).containsExactly("call 1");
  }
}
