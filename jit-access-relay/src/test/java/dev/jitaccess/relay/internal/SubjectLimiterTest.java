package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

final class SubjectLimiterTest {

  @Test
  void refusesBeyondTheLimitPerSubjectAndFreesOnRelease() {
    SubjectLimiter limiter = new SubjectLimiter(2);

    assertThat(limiter.tryAcquire("alice")).isTrue();
    assertThat(limiter.tryAcquire("alice")).isTrue();
    assertThat(limiter.tryAcquire("alice")).isFalse();
    assertThat(limiter.tryAcquire("bob")).as("other subjects are counted apart").isTrue();

    limiter.release("alice");

    assertThat(limiter.openRequests("alice")).isEqualTo(1);
    assertThat(limiter.tryAcquire("alice")).isTrue();
  }

  @Test
  void subjectWithNothingOpenIsForgotten() {
    SubjectLimiter limiter = new SubjectLimiter(1);
    limiter.tryAcquire("alice");

    limiter.release("alice");
    limiter.release("alice"); // an extra release never goes negative

    assertThat(limiter.openRequests("alice")).isZero();
    assertThat(limiter.tryAcquire("alice")).isTrue();
    assertThat(limiter.tryAcquire("alice")).isFalse();
  }

  @Test
  void concurrentAcquiresNeverExceedTheLimit() throws Exception {
    SubjectLimiter limiter = new SubjectLimiter(50);
    AtomicInteger granted = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int i = 0; i < 400; i++) {
        pool.execute(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          if (limiter.tryAcquire("alice")) {
            granted.incrementAndGet();
          }
        });
      }
      go.countDown();
    } finally {
      pool.shutdown();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    assertThat(granted).hasValue(50);
    assertThat(limiter.openRequests("alice")).isEqualTo(50);
  }

  @Test
  void limitMustBePositive() {
    assertThatThrownBy(() -> new SubjectLimiter(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxConcurrentRequestsPerSubject must be positive but was 0");
  }
}
