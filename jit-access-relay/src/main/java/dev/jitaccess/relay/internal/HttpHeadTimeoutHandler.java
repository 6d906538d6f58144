package dev.jitaccess.relay.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Closes an HTTP/1.1 connection whose next request head does not arrive complete within the header-read timeout
 * (slowloris). Unlike a read timeout, trickling bytes does not extend the deadline. Armed when the connection is
 * ready for a request, disarmed when the head has been decoded, re-armed by {@link #arm} after each response.
 * Bodies and long-lived responses are governed by the idle timeout instead.
 */
public final class HttpHeadTimeoutHandler extends ChannelDuplexHandler {

  private final long timeoutNanos;
  private @Nullable ChannelHandlerContext ctx;
  private @Nullable ScheduledFuture<?> deadline;

  /**
   * Creates the handler.
   *
   * @param timeout how long a request head may take
   */
  public HttpHeadTimeoutHandler(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    if (ctx.channel().isActive()) {
      arm();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    arm();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest) {
      disarm();
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    disarm();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    disarm();
  }

  /** Starts the deadline for the next request head; call on the channel's event loop. */
  public void arm() {
    ChannelHandlerContext c = ctx;
    if (c == null || deadline != null) {
      return;
    }
    deadline = c.executor().schedule(() -> c.close(), timeoutNanos, TimeUnit.NANOSECONDS);
  }

  private void disarm() {
    ScheduledFuture<?> d = deadline;
    if (d != null) {
      d.cancel(false);
      deadline = null;
    }
  }
}
