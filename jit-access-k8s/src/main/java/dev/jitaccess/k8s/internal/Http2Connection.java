package dev.jitaccess.k8s.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ConnectionPrefaceAndSettingsFrameWrittenEvent;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.channel.nio.NioIoHandle;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TLS connection to kube-apiserver, and the last handler of its pipeline: it installs the HTTP/2 codec
 * once ALPN chose {@code h2}, raises the connection window, and tells the {@link Http2Pool} when the server's
 * SETTINGS arrived (the connection may then carry streams), when it sent GOAWAY and when the connection closed.
 *
 * <p>The fields under "pool state" are guarded by the pool's lock; the rest belong to the event loop.
 */
final class Http2Connection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(Http2Connection.class);

  /** The connection window the forwarder announces right after the preface. */
  static final int CONNECTION_WINDOW = 32 * 1024 * 1024;

  private final Http2Pool pool;
  private final Supplier<Http2FrameCodec> codecs;
  private @Nullable Channel channel;
  private @Nullable Http2FrameCodec codec;
  private boolean ready;
  /** The streams open on this connection; event loop state. */
  final Set<Http2Exchange> exchanges = new HashSet<>();

  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS; unlimited until it says otherwise. */
  volatile int maxStreams = Integer.MAX_VALUE;

  // pool state
  int reserved;
  boolean goingAway;
  long idleSince;

  Http2Connection(Http2Pool pool, Supplier<Http2FrameCodec> codecs) {
    this.pool = pool;
    this.codecs = codecs;
  }

  Channel channel() {
    Channel c = channel;
    if (c == null) {
      throw new IllegalStateException("not connected");
    }
    return c;
  }

  /** Whether another stream may be opened on this connection; called under the pool's lock. */
  boolean hasCapacity() {
    return !goingAway && channel != null && channel.isActive() && reserved < maxStreams;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent handshake) {
      if (!handshake.isSuccess()) {
        pool.connectFailed(this, handshake.cause());
        ctx.close();
        return;
      }
      String protocol = ctx.pipeline().get(SslHandler.class).applicationProtocol();
      if (!"h2".equals(protocol)) {
        pool.notHttp2(this, new NotHttp2Exception(protocol == null ? "no protocol with ALPN" : protocol));
        ctx.close();
        return;
      }
      Http2FrameCodec h2 = codecs.get();
      codec = h2;
      ctx.pipeline().addBefore(ctx.name(), "h2", h2);
      // Server push is disabled in our SETTINGS, so the server never opens a stream; refuse any anyway.
      ctx.pipeline().addBefore(ctx.name(), "streams", new Http2MultiplexHandler(new RefuseStreams()));
      return;
    }
    if (evt instanceof Http2ConnectionPrefaceAndSettingsFrameWrittenEvent && codec != null) {
      // Right after the preface. The codec itself already grew the connection window a little (twice the
      // stream window's excess over 64 KiB); top it up to CONNECTION_WINDOW.
      io.netty.handler.codec.http2.Http2Connection connection = codec.connection();
      int announced = connection.local().flowController().initialWindowSize(connection.connectionStream());
      if (announced < CONNECTION_WINDOW) {
        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - announced));
      }
      return;
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof Http2SettingsFrame settings) {
        Long max = settings.settings().maxConcurrentStreams();
        if (max != null) {
          maxStreams = (int) Math.min(max, Integer.MAX_VALUE);
        }
        if (!ready) {
          ready = true;
          pool.ready(this);
        } else {
          pool.capacityChanged(this);
        }
      } else if (msg instanceof Http2GoAwayFrame) {
        pool.goingAway(this);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (ready) {
      pool.lost(this);
    } else {
      pool.connectFailed(this, new ClosedChannelException());
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("Closing the HTTP/2 connection to kube-apiserver {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }

  /**
   * After the connection's event loop terminated without closing it (Netty may skip that when a loop is shut
   * down without quiet period while it runs tasks): closes the socket and fails the open streams here, on the
   * calling thread, which owns the loop's state now that the loop is gone.
   */
  void abandon() {
    Channel ch = channel;
    if (ch == null) {
      return;
    }
    if (ch.isOpen()) {
      try {
        if (ch.unsafe() instanceof NioIoHandle nio) {
          nio.selectableChannel().close();
        } else if (ch instanceof UnixChannel unix) {
          unix.fd().close();
        }
      } catch (IOException | RuntimeException e) {
        log.debug("Could not close an HTTP/2 connection left open by its event loop: {}", e.toString());
      }
    }
    for (Http2Exchange exchange : new ArrayList<>(exchanges)) {
      exchange.connectionLost();
    }
    exchanges.clear();
  }

  /** Closes streams the server opens. */
  private static final class RefuseStreams extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.close();
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }
}
