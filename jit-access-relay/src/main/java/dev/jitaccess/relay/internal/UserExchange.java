package dev.jitaccess.relay.internal;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Grant;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/** The state of one user request on its way through the relay, confined to the user channel's event loop. */
final class UserExchange {
  /**
   * Correlates the audit record with the agent's log lines. A version-4 UUID from {@link ThreadLocalRandom}: it
   * must be unique, not secret (nothing is authorized by it), and {@link UUID#randomUUID()} takes the JVM-wide
   * {@code SecureRandom} lock and reads {@code /dev/urandom} on every other request.
   */
  final String requestId = randomId();
  final HttpMethod method;
  final Instant started;
  boolean keepAlive;
  /** The path as routed (authorized, audited and forwarded), or a sanitized raw target before routing. */
  String path;
  @Nullable String cluster;
  /** The relay's own failure answers go out as text (see {@link StatusResponses#readAsText}). */
  boolean plainTextErrors;
  @Nullable Grant grant;
  /** The subject holding a slot of the per-subject limit for this request, until it ends. */
  @Nullable String limitSlot;
  @Nullable Http2StreamChannel stream;
  @Nullable String upgrade;
  @Nullable String websocketKey;
  boolean hasBody;
  boolean requestDone;
  boolean responseStarted;
  boolean responseDone;
  boolean audited;
  int status;
  long bytesIn;
  long bytesOut;

  UserExchange(HttpMethod method, String rawTarget, Instant started, boolean keepAlive) {
    this.method = method;
    this.path = sanitize(rawTarget);
    this.started = started;
    this.keepAlive = keepAlive;
  }

  AuditEvent auditEvent(Instant now, @Nullable String detail) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("method", method.name());
    attributes.put("path", path);
    attributes.put("status", Integer.toString(status));
    attributes.put("bytesIn", Long.toString(bytesIn));
    attributes.put("bytesOut", Long.toString(bytesOut));
    attributes.put("durationMs", Long.toString(Duration.between(started, now).toMillis()));
    attributes.put("requestId", requestId);
    if (upgrade != null) {
      attributes.put("upgrade", upgrade);
    }
    Grant g = grant;
    return new AuditEvent(
        now,
        AuditEvent.Type.REQUEST,
        g == null ? null : g.subject().id(),
        cluster,
        g == null ? null : g.id(),
        detail,
        attributes);
  }

  /** A refused target may hold anything; the audit keeps a bounded, printable form of it. */
  static String sanitize(String raw) {
    StringBuilder sb = new StringBuilder(Math.min(raw.length(), 256));
    for (int i = 0; i < raw.length() && sb.length() < 256; i++) {
      char c = raw.charAt(i);
      sb.append(c > 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString();
  }

  private static String randomId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L; // version 4
    long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L; // IETF variant
    return new UUID(high, low).toString();
  }
}
