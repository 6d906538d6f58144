package dev.jitaccess.relay.internal;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a tunnel connection: an exception nobody handled closes the connection and is logged at
 * DEBUG (a port scanner or an aborted TLS handshake is not worth a WARN with a stack trace).
 */
@ChannelHandler.Sharable
public final class ClosingExceptionHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ClosingExceptionHandler.class);

  /** The shared instance. */
  public static final ClosingExceptionHandler INSTANCE = new ClosingExceptionHandler();

  private ClosingExceptionHandler() {}

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("Closing tunnel connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
