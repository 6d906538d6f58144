package dev.jitaccess.relay.internal;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;

/** HTTP/2 settings shared by both ends of a tunnel. */
final class TunnelCodecs {

  /**
   * Receive window for a whole tunnel. Each stream keeps the default 64 KiB window (that bounds what one
   * slow reader holds), but the connection window must be far larger or one unread stream would use up the
   * 64 KiB connection window and stall every other stream on the tunnel.
   */
  static final int CONNECTION_WINDOW = 16 * 1024 * 1024;

  private TunnelCodecs() {}

  /**
   * Raises the connection-level receive window; call once the HTTP/2 frame codec is in the pipeline.
   *
   * @param tunnel the tunnel channel
   */
  static void enlargeConnectionWindow(Channel tunnel) {
    tunnel.writeAndFlush(
        new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
  }
}
