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
 * {@code subject=<id>&cluster=<id>}: the tombstone and the closing of the subject's streams happen at once
 * on the event loop's caller; removing the account from the cluster runs on the executor.
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
    context.grants().revoke(subjectId);
    log.info("Revoked {}: open streams closed, older grants refused", subjectId);
    try {
      context.executor().execute(() -> removeAccount(subjectId));
    } catch (RejectedExecutionException e) {
      log.warn("Could not schedule the removal of {}'s account: the agent is shutting down", subjectId);
    }
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), true));
  }

  private void removeAccount(String subjectId) {
    try {
      context.accounts().remove(subjectId);
    } catch (RuntimeException e) {
      log.warn("Removing {}'s account after revocation failed (the sweeper retries): {}", subjectId, e.toString());
    }
  }
}
