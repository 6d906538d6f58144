package dev.jitaccess.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

final class InstantTickerTest {

  private static final Instant START = Instant.parse("2030-01-01T00:00:00.123456789Z");

  @Test
  void systemClocksAreReadInMillisecondsAndOthersThroughTheSource() {
    assertThat(InstantTicker.isSystem(InstantSource.system())).isTrue();
    assertThat(InstantTicker.isSystem(Clock.systemUTC())).isTrue();
    assertThat(InstantTicker.isSystem(Clock.system(ZoneId.of("Europe/Paris")))).isTrue();
    assertThat(InstantTicker.isSystem(InstantSource.fixed(START))).isFalse();
    assertThat(InstantTicker.isSystem(Clock.offset(Clock.systemUTC(), java.time.Duration.ofHours(1)))).isFalse();
  }

  @Test
  void aMillisecondReadingIsTheLastNanosecondOfThatMillisecond() {
    AtomicLong millis = new AtomicLong(START.toEpochMilli());
    InstantTicker ticker = new InstantTicker(InstantSource.fixed(START), millis::get);
    Instant wholeSecond = Instant.parse("2030-01-01T00:00:05Z");

    millis.set(wholeSecond.toEpochMilli() - 1);
    assertThat(ticker.read()).isEqualTo(ticker.toTicks(wholeSecond) - 1); // not yet: expires exactly on time
    millis.set(wholeSecond.toEpochMilli());
    assertThat(ticker.read()).isGreaterThanOrEqualTo(ticker.toTicks(wholeSecond))
        .isLessThan(ticker.toTicks(wholeSecond.plusMillis(1)));
  }

  @Test
  void anEndInsideAMillisecondIsReachedAtTheStartOfThatMillisecondNeverLater() {
    AtomicLong millis = new AtomicLong(START.toEpochMilli());
    InstantTicker ticker = new InstantTicker(InstantSource.fixed(START), millis::get);
    Instant end = Instant.parse("2030-01-01T00:01:00.000500000Z");

    millis.set(end.toEpochMilli());
    assertThat(ticker.read()).isGreaterThanOrEqualTo(ticker.toTicks(end));
    millis.set(end.toEpochMilli() - 1);
    assertThat(ticker.read()).isLessThan(ticker.toTicks(end));
  }

  @Test
  void theSystemClockReadingStaysWithinAMillisecondOfItsInstant() {
    InstantTicker ticker = new InstantTicker(InstantSource.system());
    long before = ticker.toTicks(Instant.now());
    long read = ticker.read();
    long after = ticker.toTicks(Instant.now());
    assertThat(read).isGreaterThanOrEqualTo(before).isLessThan(after + 1_000_000L);
  }

  @Test
  void aFakeClockIsReadExactly() {
    InstantTicker ticker = new InstantTicker(InstantSource.fixed(START));
    assertThat(ticker.read()).isZero();
    assertThat(ticker.toTicks(START.plusNanos(7))).isEqualTo(7);
  }

  @Test
  void farInstantsSaturateInsteadOfOverflowing() {
    InstantTicker ticker = new InstantTicker(InstantSource.fixed(START));
    assertThat(ticker.toTicks(Instant.MAX)).isEqualTo(InstantTicker.LIMIT);
    assertThat(ticker.toTicks(Instant.MIN)).isEqualTo(-InstantTicker.LIMIT);
  }
}
