package dev.jitaccess.relay.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a tunnel honest on both ends: an {@link IdleStateHandler} at the byte level (any bytes read count as
 * life) raises the idle events, and this handler, placed after the HTTP/2 frame codec, answers them with a
 * PING (write-idle) or by closing the tunnel (read-idle for the whole timeout). PING acks are consumed here.
 */
public final class HeartbeatHandler extends ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(HeartbeatHandler.class);

  private final HeartbeatSettings settings;
  private final String label;
  private long pings;

  private HeartbeatHandler(HeartbeatSettings settings, String label) {
    this.settings = settings;
    this.label = label;
  }

  /**
   * Installs the heartbeat around an HTTP/2 frame codec that is already in the pipeline.
   *
   * @param pipeline the tunnel's pipeline
   * @param codecName the name of the frame codec
   * @param settings the timings
   * @param label what to call the tunnel in log lines (a cluster id, the relay URI)
   */
  public static void install(ChannelPipeline pipeline, String codecName, HeartbeatSettings settings, String label) {
    pipeline.addBefore(
        codecName,
        "heartbeat-idle",
        new IdleStateHandler(
            settings.timeout().toNanos(), settings.interval().toNanos(), 0, TimeUnit.NANOSECONDS));
    pipeline.addAfter(codecName, "heartbeat", new HeartbeatHandler(settings, label));
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent idle) {
      if (idle.state() == IdleState.WRITER_IDLE) {
        ctx.writeAndFlush(new DefaultHttp2PingFrame(++pings));
      } else if (idle.state() == IdleState.READER_IDLE) {
        log.warn("Tunnel {} sent nothing for {}; closing it as dead", label, settings.timeout());
        ctx.close();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof Http2PingFrame ping && ping.ack()) {
      return;
    }
    super.channelRead(ctx, msg);
  }
}
