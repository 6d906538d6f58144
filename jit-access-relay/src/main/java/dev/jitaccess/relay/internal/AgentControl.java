package dev.jitaccess.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A control message from the relay ({@code /_jit/...}). Today only {@code POST /_jit/revoke} with the form
 * {@code subject=<id>&cluster=<id>}: the in-memory tombstone and the closing of the subject's streams happen
 * at once on the event loop; storing the tombstone durably (before the 200 answer) and then removing the
 * account from the cluster run on the executor.
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
    List<String> subjects =
        new QueryStringDecoder(body.toString(StandardCharsets.UTF_8), false).parameters().get("subject");
    if (subjects == null || subjects.size() != 1 || subjects.get(0).isBlank()) {
      AgentStatus.send(stream, 400, "BadRequest", "revoke needs exactly one subject");
      return;
    }
    String subjectId = subjects.get(0);
    // In memory at once: open streams close and new requests are refused before anything blocks.
    AgentGrants.Tombstone tombstone = context.grants().revoke(subjectId);
    try {
      context.executor().execute(() -> persistThenAcknowledge(subjectId, tombstone));
    } catch (RejectedExecutionException e) {
      AgentStatus.send(stream, 503, "ServiceUnavailable", "the agent is shutting down");
    }
  }

  /**
   * On the executor: the relay hears 200 only once the tombstone is durable, so that a restarted agent
   * still refuses the revoked grants. The account is removed after that.
   */
  private void persistThenAcknowledge(String subjectId, AgentGrants.Tombstone tombstone) {
    try {
      context.grants().persist(subjectId, tombstone);
    } catch (RuntimeException e) {
      log.warn(
          "Revoked {} in memory, but could not store the tombstone (a restart would forget it): {}",
          subjectId,
          e.toString());
      AgentStatus.send(stream, 503, "ServiceUnavailable", "the revocation could not be stored durably");
      removeAccount(subjectId);
      return;
    }
    log.info("Revoked {}: open streams closed, grants issued until {} refused", subjectId, tombstone.revokedAt());
    stream.eventLoop()
        .execute(
            () ->
                stream.writeAndFlush(
                    new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), true)));
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
