package dev.jitaccess.relay.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.Http2Headers;
import org.jspecify.annotations.Nullable;

/** Protocol upgrades (exec, attach, port-forward): not supported yet; such requests are refused by the agent. */
final class UserUpgrade {

  private UserUpgrade() {}

  static @Nullable String requestedProtocol(HttpHeaders headers) {
    return null;
  }

  static boolean isUpgraded(UserExchange e, Http2Headers headers) {
    return false;
  }

  static void pipe(ChannelHandlerContext user, Channel stream, UserExchange e, Runnable onEnd) {
    throw new UnsupportedOperationException("upgrades are not supported yet");
  }
}
