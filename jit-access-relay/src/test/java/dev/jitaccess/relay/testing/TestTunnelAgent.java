package dev.jitaccess.relay.testing;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.RelayException;
import dev.jitaccess.relay.internal.TunnelRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * An in-process stand-in for a cluster's agent: an HTTP/2 server on loopback, reached through a
 * {@link TunnelRegistry} that opens streams on one HTTP/2 client connection to it (the relay is the client, as
 * on a real tunnel). It records what it received and answers by path:
 *
 * <ul>
 *   <li>{@code /watch...}: 200 and then whatever the test sends with {@link #nextWatch()};
 *   <li>{@code /api}: Kubernetes {@code APIVersions} discovery JSON;
 *   <li>{@code /redirect}: 302 with a {@code Location};
 *   <li>{@code /big}: 200 and {@link #BIG_BODY} bytes, written only while the stream is writable (as a real agent
 *       does), counted in {@link #bigBytesWritten()};
 *   <li>anything else: 200 with a JSON echo of method, path and body.
 * </ul>
 */
public final class TestTunnelAgent implements TunnelRegistry, AutoCloseable {

  /** What the agent received on one stream. */
  public record Received(Http2Headers headers, String body) {
    /** All values of a header (lower-case name). */
    public List<String> all(String name) {
      List<String> values = new ArrayList<>();
      headers.getAll(name).forEach(v -> values.add(v.toString()));
      return values;
    }

    /** The header names, lower case. */
    public List<String> names() {
      List<String> names = new ArrayList<>();
      headers.names().forEach(n -> names.add(n.toString()));
      return names;
    }
  }

  /** The size of the {@code /big} answer, 64 MiB. */
  public static final long BIG_BODY = 64L * 1024 * 1024;

  private static final byte[] CHUNK = new byte[16 * 1024];

  private final java.util.concurrent.atomic.AtomicLong bigWritten = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong bigSent = new java.util.concurrent.atomic.AtomicLong();
  private final String cluster;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  private final BlockingQueue<Channel> watches = new LinkedBlockingQueue<>();
  private final Channel server;
  private final Channel client;
  private volatile boolean connected = true;

  private TestTunnelAgent(String cluster) throws InterruptedException {
    this.cluster = cluster;
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(Http2FrameCodecBuilder.forServer().build())
                        .addLast(
                            new Http2MultiplexHandler(
                                new ChannelInitializer<Http2StreamChannel>() {
                                  @Override
                                  protected void initChannel(Http2StreamChannel stream) {
                                    stream.pipeline().addLast(new AgentStream());
                                  }
                                }));
                  }
                })
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .sync()
            .channel();
    client =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(Http2FrameCodecBuilder.forClient().build())
                        .addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                  }
                })
            .connect(server.localAddress())
            .sync()
            .channel();
    // As the relay's real tunnel does (TunnelCodecs): a large connection window, so one unread stream holding its
    // 64 KiB stream window cannot stall the others.
    client.writeAndFlush(
        new io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame(16 * 1024 * 1024 - 65_535)).sync();
  }

  /**
   * Starts an agent for one cluster.
   *
   * @param cluster the cluster id it serves
   * @return the running agent
   */
  public static TestTunnelAgent start(String cluster) {
    try {
      return new TestTunnelAgent(cluster);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** How many bytes of {@code /big} answers the agent has written so far. */
  public long bigBytesWritten() {
    return bigWritten.get();
  }

  /**
   * How many bytes of {@code /big} answers have left the agent: written to the tunnel connection, which HTTP/2 flow
   * control allows only as far as the relay's stream window reaches (so this counts what the relay has taken).
   */
  public long bigBytesSent() {
    return bigSent.get();
  }

  /** Makes {@link #isConnected} report the agent as gone (or back). */
  public void connected(boolean value) {
    connected = value;
  }

  /** The next request the agent received, waiting up to 5 s. */
  public Received nextRequest() throws InterruptedException {
    Received r = received.poll(5, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("the agent received no request");
    }
    return r;
  }

  /** The next request already received, or null. */
  public @Nullable Received pollRequest() {
    return received.poll();
  }

  /** Whether the agent received nothing (yet). */
  public boolean receivedNothing() {
    return received.isEmpty();
  }

  /** The stream of the next watch request, waiting up to 5 s; send events with {@link #send}. */
  public Channel nextWatch() throws InterruptedException {
    Channel c = watches.poll(5, TimeUnit.SECONDS);
    if (c == null) {
      throw new AssertionError("no watch arrived at the agent");
    }
    return c;
  }

  /** Sends one watch event (a line of JSON) on a watch stream. */
  public static void send(Channel watch, String line, boolean last) {
    watch.writeAndFlush(
        new DefaultHttp2DataFrame(Unpooled.copiedBuffer(line + "\n", StandardCharsets.UTF_8), last));
  }

  @Override
  public boolean isConnected(String id) {
    return connected && cluster.equals(id) && client.isActive();
  }

  @Override
  public Future<Http2StreamChannel> openStream(String id, ChannelHandler handler) {
    if (!isConnected(id)) {
      return group.next().newFailedFuture(new RelayException("no agent for " + id));
    }
    return new Http2StreamChannelBootstrap(client).handler(handler).open();
  }

  @Override
  public void revoke(String subjectId, @Nullable String id, java.time.@Nullable Instant revokedAt) {}

  @Override
  public void close() {
    client.close().awaitUninterruptibly();
    server.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  private final class AgentStream extends ChannelInboundHandlerAdapter {
    private @Nullable Http2Headers headers;
    private final ByteBuf body = Unpooled.buffer();
    private long bigRemaining;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        boolean end = false;
        if (msg instanceof Http2HeadersFrame frame) {
          headers = frame.headers();
          end = frame.isEndStream();
        } else if (msg instanceof Http2DataFrame frame) {
          body.writeBytes(frame.content());
          end = frame.isEndStream();
        }
        Http2Headers h = headers;
        if (h == null) {
          return;
        }
        String path = h.path().toString();
        if (path.startsWith("/exec") && msg instanceof Http2HeadersFrame) {
          upgrade(ctx, h, path);
        } else if (path.startsWith("/exec") && msg instanceof Http2DataFrame) {
          ctx.writeAndFlush(
              new DefaultHttp2DataFrame(Unpooled.copiedBuffer("echo:" + body.toString(StandardCharsets.UTF_8), StandardCharsets.UTF_8)));
          body.clear();
        } else if (path.startsWith("/watch") && msg instanceof Http2HeadersFrame) {
          received.add(new Received(h, ""));
          ctx.writeAndFlush(new DefaultHttp2HeadersFrame(status("200").set("content-type", "application/json")));
          watches.add(ctx.channel());
        } else if (path.startsWith("/big") && end) {
          received.add(new Received(h, ""));
          ctx.writeAndFlush(new DefaultHttp2HeadersFrame(status("200").set("content-type", "application/octet-stream")));
          bigRemaining = BIG_BODY;
          pumpBig(ctx);
        } else if (end && !path.startsWith("/watch")) {
          String text = body.toString(StandardCharsets.UTF_8);
          received.add(new Received(h, text));
          answer(ctx, h, text);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    /** Writes the big answer while the stream can take it; resumes when it becomes writable again. */
    private void pumpBig(ChannelHandlerContext ctx) {
      while (bigRemaining > 0 && ctx.channel().isWritable()) {
        int n = (int) Math.min(CHUNK.length, bigRemaining);
        bigRemaining -= n;
        bigWritten.addAndGet(n);
        ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(CHUNK, 0, n), bigRemaining == 0))
            .addListener(f -> {
              if (f.isSuccess()) {
                bigSent.addAndGet(n);
              }
            });
      }
      ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (bigRemaining > 0) {
        pumpBig(ctx);
      }
      ctx.fireChannelWritabilityChanged();
    }

    /** Plays kube-apiserver's switch: {@code /exec-denied} answers 403, other {@code /exec} paths switch. */
    private void upgrade(ChannelHandlerContext ctx, Http2Headers h, String path) {
      received.add(new Received(h, ""));
      CharSequence protocol = h.get("jit-upgrade");
      if (path.startsWith("/exec-denied") || protocol == null) {
        byte[] json = "{\"kind\":\"Status\",\"code\":403}".getBytes(StandardCharsets.UTF_8);
        ctx.write(new DefaultHttp2HeadersFrame(status("403").set("content-type", "application/json")));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(json), true));
        return;
      }
      Http2Headers answer = status("200").set("jit-upgraded", protocol);
      CharSequence subprotocol = h.get("sec-websocket-protocol");
      if (subprotocol != null) {
        answer.set("sec-websocket-protocol", subprotocol.toString().split(",")[0].strip());
      } else {
        answer.set("x-stream-protocol-version", "v4.channel.k8s.io");
      }
      ctx.writeAndFlush(new DefaultHttp2HeadersFrame(answer));
    }

    private void answer(ChannelHandlerContext ctx, Http2Headers h, String text) {
      String path = h.path().toString();
      if (path.equals("/redirect")) {
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(status("302").set("location", "https://elsewhere/"), true));
        return;
      }
      String json;
      String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
      if (DISCOVERY.containsKey(bare)) {
        json = DISCOVERY.get(bare);
      } else {
        Map<String, Object> echo = new LinkedHashMap<>();
        echo.put("method", h.method().toString());
        echo.put("path", path);
        echo.put("body", text);
        json = JSONObjectUtils.toJSONString(echo);
      }
      byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
      ctx.write(
          new DefaultHttp2HeadersFrame(
              status("200").set("content-type", "application/json").setInt("content-length", bytes.length)));
      ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), true));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      body.release();
    }
  }

  /** Real-shaped discovery and list answers, enough for {@code kubectl get ns}. */
  private static final Map<String, String> DISCOVERY =
      Map.of(
          "/api",
          "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":"
              + "[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"10.0.0.1:6443\"}]}",
          "/apis",
          "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[]}",
          "/api/v1",
          "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":[{\"name\":\"namespaces\","
              + "\"singularName\":\"namespace\",\"namespaced\":false,\"kind\":\"Namespace\","
              + "\"verbs\":[\"create\",\"delete\",\"get\",\"list\",\"watch\"],\"shortNames\":[\"ns\"]}]}",
          "/api/v1/namespaces",
          "{\"kind\":\"NamespaceList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},\"items\":["
              + "{\"metadata\":{\"name\":\"default\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
              + "\"status\":{\"phase\":\"Active\"}},"
              + "{\"metadata\":{\"name\":\"team-a\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
              + "\"status\":{\"phase\":\"Active\"}}]}");

  private static Http2Headers status(String code) {
    return new DefaultHttp2Headers().status(code);
  }
}
