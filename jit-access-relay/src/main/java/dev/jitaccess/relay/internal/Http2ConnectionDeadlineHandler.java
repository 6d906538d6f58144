package dev.jitaccess.relay.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Stream;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 form of the header-read deadline: a user connection must have a stream open within the deadline of
 * connecting and of its last stream ending, or it is closed (with GOAWAY). A stream opens only once its header
 * block is complete, so this also bounds a client that trickles a HEADERS frame and its CONTINUATIONs, which the
 * header-list size limit alone does not (it bounds the size, not the time). Streams that are open are governed
 * by the per-stream idle timeout instead.
 *
 * <p>Confined to the connection's event loop. Add it to a pipeline that holds an {@link Http2FrameCodec}.
 */
public final class Http2ConnectionDeadlineHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(Http2ConnectionDeadlineHandler.class);

  private final long timeoutNanos;
  private @Nullable ChannelHandlerContext ctx;
  private @Nullable Http2Connection connection;
  private @Nullable ScheduledFuture<?> deadline;

  /**
   * Creates the handler.
   *
   * @param timeout how long a connection may have no open stream
   */
  public Http2ConnectionDeadlineHandler(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
    if (codec == null) {
      throw new IllegalStateException("Http2ConnectionDeadlineHandler needs an Http2FrameCodec in the pipeline");
    }
    Http2Connection c = codec.connection();
    connection = c;
    c.addListener(
        new Http2ConnectionAdapter() {
          @Override
          public void onStreamActive(Http2Stream stream) {
            disarm();
          }

          @Override
          public void onStreamClosed(Http2Stream stream) {
            if (c.numActiveStreams() == 0) {
              arm();
            }
          }
        });
    if (c.numActiveStreams() == 0) {
      arm();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    disarm();
    ctx.fireChannelInactive();
  }

  /**
   * The last handler of the connection's pipeline: the HTTP/2 codec has already answered a protocol error (RST_STREAM
   * or GOAWAY and close) before passing it on, so it is only logged here.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("HTTP/2 user connection {} failed: {}", ctx.channel().id(), cause.toString());
    if (!(cause instanceof io.netty.handler.codec.http2.Http2Exception)) {
      ctx.close();
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    disarm();
  }

  private void arm() {
    ChannelHandlerContext c = ctx;
    if (c == null || deadline != null || !c.channel().isOpen()) {
      return;
    }
    deadline = c.executor().schedule(this::expire, timeoutNanos, TimeUnit.NANOSECONDS);
  }

  private void expire() {
    deadline = null;
    ChannelHandlerContext c = ctx;
    Http2Connection conn = connection;
    if (c != null && conn != null && conn.numActiveStreams() == 0) {
      log.debug("Closing HTTP/2 user connection {}: no request within the header-read timeout", c.channel().id());
      c.close();
    }
  }

  private void disarm() {
    ScheduledFuture<?> d = deadline;
    if (d != null) {
      d.cancel(false);
      deadline = null;
    }
  }
}
