package dev.jitaccess.relay.internal;

import com.nimbusds.jose.util.JSONObjectUtils;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The agent's own error answers, as Kubernetes {@code Status} objects so kubectl shows them well. */
final class AgentStatus {
  private AgentStatus() {}

  /**
   * Answers a stream with a failure {@code Status} and ends it. Safe from any thread.
   *
   * @param stream the stream channel
   * @param code the HTTP status
   * @param reason the Kubernetes reason (e.g. {@code Unauthorized})
   * @param message what went wrong; never a credential
   */
  static void send(Channel stream, int code, String reason, String message) {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("kind", "Status");
    status.put("apiVersion", "v1");
    status.put("metadata", Map.of());
    status.put("status", "Failure");
    status.put("message", message);
    status.put("reason", reason);
    status.put("code", code);
    byte[] json = JSONObjectUtils.toJSONString(status).getBytes(StandardCharsets.UTF_8);
    stream.eventLoop()
        .execute(
            () -> {
              if (!stream.isActive()) {
                return;
              }
              stream.write(
                  new DefaultHttp2HeadersFrame(
                      new DefaultHttp2Headers()
                          .status(Integer.toString(code))
                          .set("content-type", "application/json")
                          .setInt("content-length", json.length)));
              stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(json), true));
            });
  }
}
