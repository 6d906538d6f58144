package dev.jitaccess.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Protocol upgrades (exec, attach, port-forward) over HTTP/1.1: SPDY/3.1 and WebSocket.
 *
 * <p>The request goes through the tunnel with {@code jit-upgrade: <protocol>} and an open stream. Only when the
 * agent answers {@code :status 200} with {@code jit-upgraded} naming the same protocol (kube-apiserver switched)
 * does the user get {@code 101 Switching Protocols} and the connection become a byte pipe; any other answer is
 * passed back as a normal response and the connection closed (CVE-2018-1002105).
 */
final class UserUpgrade {

  /** The agent's confirmation that kube-apiserver switched protocols. */
  static final String UPGRADED_HEADER = "jit-upgraded";

  private static final String WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private UserUpgrade() {}

  /** The protocol a request asks to switch to, when it is one Kubernetes uses; otherwise null. */
  static @Nullable String requestedProtocol(HttpHeaders headers) {
    if (!headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
      return null;
    }
    String upgrade = headers.get(HttpHeaderNames.UPGRADE);
    if (upgrade == null) {
      return null;
    }
    String protocol = upgrade.strip();
    if (protocol.equalsIgnoreCase("websocket")) {
      return "websocket";
    }
    if (protocol.equalsIgnoreCase("SPDY/3.1")) {
      return "SPDY/3.1";
    }
    return null;
  }

  static boolean isUpgraded(UserExchange e, Http2Headers headers) {
    CharSequence status = headers.status();
    CharSequence upgraded = headers.get(UPGRADED_HEADER);
    return status != null
        && (status.toString().equals("200") || status.toString().equals("101"))
        && upgraded != null
        && upgraded.toString().equalsIgnoreCase(e.upgrade);
  }

  /**
   * Answers 101, turns the user connection into a byte pipe with the tunnel stream and audits when it ends.
   * Called on the user channel's event loop.
   */
  static void pipe(ChannelHandlerContext user, Channel stream, UserExchange e, Http2Headers agentAnswer, Runnable onEnd) {
    FullHttpResponse switching =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
    for (Map.Entry<CharSequence, CharSequence> entry : agentAnswer) {
      String name = entry.getKey().toString().toLowerCase(Locale.ROOT);
      if (HeaderPolicy.isForwardedResponseHeader(name)
          && !name.startsWith("jit-")
          && !name.equals("content-length")
          && !name.equals("sec-websocket-accept")) {
        switching.headers().add(name, entry.getValue());
      }
    }
    switching.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    switching.headers().set(HttpHeaderNames.UPGRADE, e.upgrade);
    if ("websocket".equals(e.upgrade) && e.websocketKey != null) {
      switching.headers().set(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT, websocketAccept(e.websocketKey));
    }
    user.writeAndFlush(switching);
    Pipe pipe = new Pipe(user.channel(), stream, onEnd);
    ChannelPipeline p = user.pipeline();
    for (String name : new String[] {"head-timeout", "http-encoder"}) {
      if (p.get(name) != null) {
        p.remove(name);
      }
    }
    p.addLast("upgraded", pipe.userSide());
    stream.pipeline().addLast("upgraded", pipe.tunnelSide());
    stream.pipeline().remove(UserTunnelStreamHandler.class);
    p.remove(UserRequestHandler.class);
    if (p.get("http-decoder") != null) {
      p.remove("http-decoder"); // hands any bytes it buffered to the pipe
    }
    user.channel().config().setAutoRead(true);
    stream.config().setAutoRead(true);
  }

  static String websocketAccept(String key) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-1").digest((key.strip() + WEBSOCKET_GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required by the Java platform", e);
    }
  }

  /** Bytes both ways with backpressure; either side ending closes both. */
  private static final class Pipe {
    private final Channel user;
    private final Channel stream;
    private final Runnable onEnd;
    private boolean ended;

    Pipe(Channel user, Channel stream, Runnable onEnd) {
      this.user = user;
      this.stream = stream;
      this.onEnd = onEnd;
    }

    synchronized void end() {
      if (!ended) {
        ended = true;
        onEnd.run();
      }
      if (user.isActive()) {
        user.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
      if (stream.isActive()) {
        stream.close();
      }
    }

    ChannelInboundHandlerAdapter userSide() {
      return new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          if (msg instanceof ByteBuf bytes) {
            stream.writeAndFlush(new DefaultHttp2DataFrame(bytes, false));
            StreamReads.autoRead(ctx.channel(), stream.isWritable());
          } else {
            ReferenceCountUtil.release(msg);
          }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
          StreamReads.autoRead(stream, ctx.channel().isWritable());
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
          if (evt instanceof IdleStateEvent) {
            end();
          }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
          end();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
          end();
        }
      };
    }

    ChannelInboundHandlerAdapter tunnelSide() {
      return new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          if (msg instanceof Http2DataFrame data) {
            boolean last = data.isEndStream();
            user.writeAndFlush(data.content());
            StreamReads.autoRead(ctx.channel(), user.isWritable());
            if (last) {
              end();
            }
          } else {
            ReferenceCountUtil.release(msg);
          }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
          StreamReads.autoRead(user, ctx.channel().isWritable());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
          end();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
          end();
        }
      };
    }
  }
}
