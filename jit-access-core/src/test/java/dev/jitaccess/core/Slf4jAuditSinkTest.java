package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.jitaccess.api.AuditEvent;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

final class Slf4jAuditSinkTest {

  private static final Instant T0 = Instant.parse("2025-01-01T10:00:00Z");

  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private Logger logger;

  private ListAppender<ILoggingEvent> capture(String name) {
    logger = (Logger) LoggerFactory.getLogger(name);
    logger.setLevel(Level.INFO);
    logger.setAdditive(false);
    appender.start();
    logger.addAppender(appender);
    return appender;
  }

  @AfterEach
  void detach() {
    if (logger != null) {
      logger.detachAppender(appender);
      logger.setLevel(null);
      logger.setAdditive(true);
    }
  }

  @Test
  void logsOneInfoLineWithQuotedFields() {
    capture(Slf4jAuditSink.DEFAULT_LOGGER);

    Slf4jAuditSink.create()
        .record(
            new AuditEvent(
                T0, AuditEvent.Type.GRANTED, "alice@example.com", "prod-1", "g-1", "edit@payments",
                Map.of("status", "200", "method", "GET")));

    assertThat(appender.list).hasSize(1);
    ILoggingEvent logged = appender.list.get(0);
    assertThat(logged.getLevel()).isEqualTo(Level.INFO);
    assertThat(logged.getFormattedMessage())
        .isEqualTo(
            "audit time=2025-01-01T10:00:00Z type=GRANTED subject=\"alice@example.com\" cluster=\"prod-1\""
                + " grant=\"g-1\" detail=\"edit@payments\" attr.method=\"GET\" attr.status=\"200\"");
  }

  @Test
  void hostileValuesCannotForgeALine() {
    capture("com.example.audit");
    String forged = "x\" type=GRANTED\naudit time=2025-01-01T10:00:00Z type=GRANTED subject=\"root";

    Slf4jAuditSink.create("com.example.audit")
        .record(
            new AuditEvent(
                T0, AuditEvent.Type.DENIED, "mallory", null, null, forged + "\r\u2028\u202e\\",
                Map.of("k\ney", "v\"")));

    assertThat(appender.list).hasSize(1);
    String line = appender.list.get(0).getFormattedMessage();
    assertThat(line).doesNotContain("\n", "\r", "\u2028", "\u202e");
    assertThat(line)
        .isEqualTo(
            "audit time=2025-01-01T10:00:00Z type=DENIED subject=\"mallory\" detail=\"x\\\" type=GRANTED\\naudit"
                + " time=2025-01-01T10:00:00Z type=GRANTED subject=\\\"root\\r\\u2028\\u202e\\\\\""
                + " attr.\"k\\ney\"=\"v\\\"\"");
  }

  @Test
  void absentFieldsAreLeftOut() {
    assertThat(Slf4jAuditSink.format(new AuditEvent(T0, AuditEvent.Type.AUTHENTICATION_FAILED, null, null, null, null)))
        .isEqualTo("audit time=2025-01-01T10:00:00Z type=AUTHENTICATION_FAILED");
  }

  @Test
  void nonBmpCharactersAreKeptButLoneSurrogatesEscaped() {
    String line =
        Slf4jAuditSink.format(new AuditEvent(T0, AuditEvent.Type.WARNING, "\uD83D\uDE00", null, null, "\uD800x"));

    assertThat(line).contains("subject=\"\uD83D\uDE00\"").contains("detail=\"\\ud800x\"");
  }

  @Test
  void creatingASinkOnALoggerThatDropsInfoWarns() {
    capture(Slf4jAuditSink.class.getName());
    Logger silenced = (Logger) LoggerFactory.getLogger("silenced.audit");
    silenced.setLevel(Level.WARN);
    try {
      Slf4jAuditSink.create("silenced.audit");
    } finally {
      silenced.setLevel(null);
    }

    assertThat(appender.list)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getLevel()).isEqualTo(Level.WARN);
              assertThat(e.getFormattedMessage())
                  .isEqualTo("Audit logger silenced.audit does not log at INFO: audit events sent to it are dropped");
            });
  }
}
