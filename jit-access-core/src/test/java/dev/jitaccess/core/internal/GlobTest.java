package dev.jitaccess.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class GlobTest {

  @ParameterizedTest
  @CsvSource({
    "*, prod-1, true",
    "prod-*, prod-1, true",
    "prod-*, prod-, true",
    "prod-*, prod, false",
    "prod-*, xprod-1, false",
    "*-eu-*, prod-eu-1, true",
    "*-eu-*, prod-us-1, false",
    "a?c, abc, true",
    "a?c, ac, false",
    "a*b*c, aXbYbZc, true",
    "a*b*c, aXbYbZ, false",
    "**, x, true",
    "exact, exact, true",
    "exact, exact2, false",
  })
  void matchesWholeValues(String glob, String value, boolean expected) {
    assertThat(Glob.of(glob).matches(value)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"2h, PT2H", "30m, PT30M", "1h30m, PT1H30M", "90s, PT1M30S", "1d, PT24H", "PT2H, PT2H", "pt5m, PT5M"})
  void durationsParseInShortAndIsoForms(String text, String expected) {
    assertThat(PolicyRules.parseDuration(text)).isEqualTo(Duration.parse(expected));
  }
}
