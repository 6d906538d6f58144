package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

final class BackoffTest {

  @Test
  void stepsDoubleUpToTheCap() {
    Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), () -> 0.999999);

    assertThat(backoff.next()).isBetween(Duration.ofMillis(499), Duration.ofMillis(500));
    assertThat(backoff.next()).isBetween(Duration.ofMillis(999), Duration.ofSeconds(1));
    assertThat(backoff.next()).isBetween(Duration.ofMillis(1999), Duration.ofSeconds(2));
    for (int i = 0; i < 100; i++) {
      assertThat(backoff.next()).isLessThanOrEqualTo(Duration.ofSeconds(30));
    }
    assertThat(backoff.next()).isGreaterThan(Duration.ofSeconds(29));
  }

  @Test
  void jitterKeepsEachDelayBetweenHalfAndAllOfTheStep() {
    Backoff low = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), () -> 0.0);

    assertThat(low.next()).isEqualTo(Duration.ofMillis(250));
    assertThat(low.next()).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void resetStartsAgainFromTheInitialStep() {
    Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), () -> 0.0);
    backoff.next();
    backoff.next();
    backoff.next();

    backoff.reset();

    assertThat(backoff.next()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void capBelowTheInitialStepIsRefused() {
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), () -> 0.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least the initial delay PT2S but was PT1S");
  }
}
