package dev.jitaccess.relay.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits on the tunnel stream of one user request and hands everything the agent sends to the user's
 * {@link UserRequestHandler}, which moves it to the user channel's event loop.
 */
final class UserTunnelStreamHandler extends ChannelInboundHandlerAdapter {

  private final UserRequestHandler owner;

  UserTunnelStreamHandler(UserRequestHandler owner) {
    this.owner = owner;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    owner.onTunnelMessage(ctx.channel(), msg);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    owner.onTunnelWritabilityChanged(ctx.channel());
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    owner.onTunnelClosed(ctx.channel());
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
