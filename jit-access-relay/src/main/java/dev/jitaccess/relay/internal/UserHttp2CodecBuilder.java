package dev.jitaccess.relay.internal;

import dev.jitaccess.api.AuditEvent;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import java.util.Map;

/**
 * The HTTP/2 codec of the user side. Netty refuses a malformed request itself, before the relay sees it, and
 * resets its stream with {@code PROTOCOL_ERROR} (RFC 9113 §8.1.1): header names in upper case (so {@code
 * Impersonate-User} in that spelling), connection-specific headers ({@code connection}, {@code keep-alive},
 * {@code transfer-encoding}, {@code upgrade}, {@code te} other than {@code trailers}), bad pseudo-headers. A
 * codec from this builder also records each such refusal in the audit ({@code DENIED}, no subject: nothing was
 * authenticated yet), so that they are not silent. The detail is Netty's reason, bounded and printable; Netty
 * names the offending header, never a header's value.
 */
final class UserHttp2CodecBuilder extends Http2FrameCodecBuilder {
  private final UserSideConfig config;

  UserHttp2CodecBuilder(UserSideConfig config) {
    this.config = config;
    server(true);
    gracefulShutdownTimeoutMillis(0); // as forServer() sets it
  }

  @Override
  protected Http2FrameCodec build(
      Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings initialSettings) {
    Http2FrameCodec codec =
        new Http2FrameCodec(encoder, decoder, initialSettings, decoupleCloseAndGoAway(), flushPreface()) {
          @Override
          public void onError(ChannelHandlerContext ctx, boolean outbound, Throwable cause) {
            Http2Exception error = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
            if (!outbound
                && error instanceof Http2Exception.StreamException
                && error.error() == Http2Error.PROTOCOL_ERROR) {
              refused(ctx, error);
            }
            super.onError(ctx, outbound, cause);
          }
        };
    codec.gracefulShutdownTimeoutMillis(gracefulShutdownTimeoutMillis());
    return codec;
  }

  private void refused(ChannelHandlerContext ctx, Http2Exception error) {
    String reason = error.getMessage() == null ? "PROTOCOL_ERROR" : UserExchange.sanitize(error.getMessage());
    config
        .audit()
        .record(
            new AuditEvent(
                config.engine().clock().instant(),
                AuditEvent.Type.DENIED,
                null,
                null,
                null,
                "a malformed HTTP/2 request was refused: " + reason,
                Map.of(
                    "stream", Integer.toString(((Http2Exception.StreamException) error).streamId()),
                    "remote", String.valueOf(ctx.channel().remoteAddress()))));
  }
}
