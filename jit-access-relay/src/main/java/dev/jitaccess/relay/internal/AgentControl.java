package dev.jitaccess.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A control message from the relay ({@code /_jit/...}). Today only {@code POST /_jit/revoke} with the form
 * {@code subject=<id>&cluster=<id>&id=<message id>}: the in-memory tombstone and the closing of the subject's
 * streams happen at once on the event loop; storing the tombstone durably (before the 200 answer) and then
 * removing the account from the cluster run on the executor. The relay sends each revoke message over every
 * tunnel of the agent with one message id: only the first copy acts, the others answer as it did once it is
 * done (a message without an id, from an older relay, always acts; acting twice is harmless, only slower).
 */
final class AgentControl {
  private static final Logger log = LoggerFactory.getLogger(AgentControl.class);
  private static final int MAX_BODY = 4096;

  private final Channel stream;
  private final AgentContext context;
  private final String method;
  private final String path;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();

  AgentControl(Channel stream, AgentContext context, String method, String path) {
    this.stream = stream;
    this.context = context;
    this.method = method;
    this.path = path;
  }

  void data(Http2DataFrame data) {
    ByteBuf content = data.content();
    if (body.size() + content.readableBytes() > MAX_BODY) {
      AgentStatus.send(stream, 413, "RequestEntityTooLarge", "control message too large");
      return;
    }
    byte[] bytes = new byte[content.readableBytes()];
    content.getBytes(content.readerIndex(), bytes);
    body.writeBytes(bytes);
    if (data.isEndStream()) {
      end();
    }
  }

  void end() {
    if (!TunnelProtocol.REVOKE_PATH.equals(path) || !"POST".equals(method)) {
      AgentStatus.send(stream, 404, "NotFound", "unknown control message");
      return;
    }
    Map<String, List<String>> parameters =
        new QueryStringDecoder(body.toString(StandardCharsets.UTF_8), false).parameters();
    List<String> subjects = parameters.get("subject");
    if (subjects == null || subjects.size() != 1 || subjects.get(0).isBlank()) {
      AgentStatus.send(stream, 400, "BadRequest", "revoke needs exactly one subject");
      return;
    }
    String subjectId = subjects.get(0);
    Instant issuerTime;
    try {
      issuerTime = revokedAt(parameters.get("at"));
    } catch (DateTimeParseException e) {
      AgentStatus.send(stream, 400, "BadRequest", "revoke 'at' must be one ISO-8601 instant");
      return;
    }
    List<String> ids = parameters.get("id");
    CompletableFuture<Boolean> outcome = new CompletableFuture<>();
    if (ids != null && ids.size() == 1 && !ids.get(0).isBlank()) {
      CompletableFuture<Boolean> first = context.grants().firstDelivery(ids.get(0), outcome);
      if (first != null) {
        log.debug("Revoke message for {} arrived again over another tunnel; answering as the first copy", subjectId);
        first.whenComplete((stored, failure) -> acknowledge(Boolean.TRUE.equals(stored)));
        return;
      }
    }
    // In memory at once: open streams close and new requests are refused before anything blocks.
    AgentGrants.Tombstone tombstone = context.grants().revoke(subjectId, issuerTime);
    try {
      context.executor().execute(() -> persistThenAcknowledge(subjectId, tombstone, outcome));
    } catch (RejectedExecutionException e) {
      outcome.complete(false);
      AgentStatus.send(stream, 503, "ServiceUnavailable", "the agent is shutting down");
    }
  }

  /** The engine's time of the revocation, or null when the relay sent none (older relays, tests). */
  private static @Nullable Instant revokedAt(@Nullable List<String> at) {
    if (at == null || at.isEmpty()) {
      return null;
    }
    if (at.size() != 1) {
      throw new DateTimeParseException("more than one", String.join(",", at), 0);
    }
    return Instant.parse(at.get(0));
  }

  /** Answers 200 when the revocation is durable, else 503. Safe from any thread. */
  private void acknowledge(boolean stored) {
    if (stored) {
      stream.eventLoop()
          .execute(
              () ->
                  stream.writeAndFlush(
                      new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), true)));
    } else {
      AgentStatus.send(stream, 503, "ServiceUnavailable", "the revocation could not be stored durably");
    }
  }

  /**
   * On the executor: the relay hears 200 only once the tombstone is durable, so that a restarted agent
   * still refuses the revoked grants. The account is removed after that.
   */
  private void persistThenAcknowledge(
      String subjectId, AgentGrants.Tombstone tombstone, CompletableFuture<Boolean> outcome) {
    boolean stored;
    try {
      context.grants().persist(subjectId, tombstone);
      stored = true;
      log.info("Revoked {}: open streams closed, grants issued until {} refused", subjectId, tombstone.revokedAt());
    } catch (RuntimeException e) {
      stored = false;
      log.warn(
          "Revoked {} in memory, but could not store the tombstone (a restart would forget it): {}",
          subjectId,
          e.toString());
    }
    acknowledge(stored);
    outcome.complete(stored);
    removeAccount(subjectId);
  }

  private void removeAccount(String subjectId) {
    try {
      context.accounts().remove(subjectId);
    } catch (RuntimeException e) {
      log.warn("Removing {}'s account after revocation failed (the sweeper retries): {}", subjectId, e.toString());
    }
  }
}
