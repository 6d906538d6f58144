package dev.jitaccess.core;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.spi.AuditSink;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link AuditSink} that writes each event as one INFO line on an SLF4J logger ({@value #DEFAULT_LOGGER}
 * by default), in {@code key=value} form:
 *
 * <pre>{@code
 * audit time=2025-01-01T10:00:00Z type=GRANTED subject="alice@example.com" cluster="prod-1" grant="g-1" detail="..." attr.path="/api"
 * }</pre>
 *
 * <p>{@code time} and {@code type} are always present; {@code subject}, {@code cluster}, {@code grant} and
 * {@code detail} only when the event has them; attributes follow as {@code attr.<key>="<value>"} sorted by key.
 * Every value is in double quotes, with {@code \}, {@code "} and every control, line-separator or invisible
 * formatting character escaped ({@code \n}, {@code \r}, {@code \t}, or {@code \}{@code uXXXX}), so a hostile
 * subject id, detail or attribute can never start a new line or forge another record. Attribute keys that are
 * not plain {@code [A-Za-z0-9_.-]} are quoted and escaped the same way.
 *
 * <p>Route the logger to its own appender and keep it at INFO or finer: a logger that drops INFO drops the
 * audit trail (a warning says so when the sink is created). For a tamper-evident trail use
 * {@link JsonLinesAuditSink}.
 *
 * <p>Instances are immutable and thread-safe; {@link #record(AuditEvent)} never throws unless the logging
 * backend does.
 *
 * @since 0.1.0
 */
public final class Slf4jAuditSink implements AuditSink {

  /** The default logger name. */
  public static final String DEFAULT_LOGGER = "jitaccess.audit";

  private static final Logger log = LoggerFactory.getLogger(Slf4jAuditSink.class);
  private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  private final Logger audit;

  private Slf4jAuditSink(Logger audit) {
    this.audit = audit;
    if (!audit.isInfoEnabled()) {
      log.warn("Audit logger {} does not log at INFO: audit events sent to it are dropped", audit.getName());
    }
  }

  /**
   * A sink on the logger {@value #DEFAULT_LOGGER}.
   *
   * @return the sink
   */
  public static Slf4jAuditSink create() {
    return create(DEFAULT_LOGGER);
  }

  /**
   * A sink on the named logger.
   *
   * @param loggerName the logger name, such as {@code "com.example.audit"}
   * @return the sink
   * @throws NullPointerException if {@code loggerName} is null
   * @throws IllegalArgumentException if it is blank
   */
  public static Slf4jAuditSink create(String loggerName) {
    Objects.requireNonNull(loggerName, "loggerName");
    if (loggerName.isBlank()) {
      throw new IllegalArgumentException("loggerName must not be blank");
    }
    return new Slf4jAuditSink(LoggerFactory.getLogger(loggerName));
  }

  /**
   * Logs the event as one INFO line.
   *
   * @param event the event; not null
   * @throws NullPointerException if {@code event} is null
   */
  @Override
  public void record(AuditEvent event) {
    Objects.requireNonNull(event, "event");
    if (audit.isInfoEnabled()) {
      audit.info("{}", format(event));
    }
  }

  /** The line this sink logs for an event (without the logging backend's own prefix). */
  static String format(AuditEvent event) {
    StringBuilder line = new StringBuilder(128).append("audit");
    line.append(" time=").append(event.time()).append(" type=").append(event.type());
    field(line, "subject", event.subjectId());
    field(line, "cluster", event.cluster());
    field(line, "grant", event.grantId());
    field(line, "detail", event.detail());
    for (Map.Entry<String, String> attribute : new TreeMap<>(event.attributes()).entrySet()) {
      line.append(" attr.");
      String key = attribute.getKey();
      if (PLAIN_KEY.matcher(key).matches()) {
        line.append(key);
      } else {
        quote(line, key);
      }
      line.append('=');
      quote(line, attribute.getValue());
    }
    return line.toString();
  }

  private static void field(StringBuilder line, String name, @Nullable String value) {
    if (value != null) {
      line.append(' ').append(name).append('=');
      quote(line, value);
    }
  }

  private static void quote(StringBuilder line, String value) {
    line.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> line.append("\\\"");
        case '\\' -> line.append("\\\\");
        case '\n' -> line.append("\\n");
        case '\r' -> line.append("\\r");
        case '\t' -> line.append("\\t");
        default -> {
          if (Character.isHighSurrogate(c)
              && i + 1 < value.length()
              && Character.isLowSurrogate(value.charAt(i + 1))) {
            line.append(c).append(value.charAt(++i));
          } else if (mustEscape(c)) {
            line.append(String.format("\\u%04x", (int) c));
          } else {
            line.append(c);
          }
        }
      }
    }
    line.append('"');
  }

  /**
   * Control characters, U+2028/U+2029, invisible format characters (bidi overrides, zero widths) and lone
   * surrogates.
   */
  private static boolean mustEscape(char c) {
    int type = Character.getType(c);
    return Character.isISOControl(c)
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR
        || type == Character.FORMAT
        || Character.isSurrogate(c);
  }

  @Override
  public String id() {
    return "slf4j:" + audit.getName();
  }

  @Override
  public String toString() {
    return "Slf4jAuditSink[" + audit.getName() + "]";
  }
}
