package dev.jitaccess.k8s;

import dev.jitaccess.testkit.TestCertificates;
import io.kubernetes.client.openapi.ApiClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.logging.LogLevel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TLS HTTP/2 (or, with {@link #http1Only}, HTTP/1.1) stub of kube-apiserver on Netty that records what the
 * forwarder sent, frame by frame: connections, request headers, SETTINGS, WINDOW_UPDATE, RST_STREAM, and the
 * DATA bytes it actually put on the wire (which HTTP/2 flow control bounds).
 */
final class H2TlsStub implements AutoCloseable {
  /** Answers one request stream; runs on the stub's event loop. */
  @FunctionalInterface
  interface Responder {
    void respond(Stream stream, Http2Headers request);
  }

  static final TestCertificates CERTS = TestCertificates.create("k8s-h2");

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;
  private final Responder responder;

  final AtomicInteger connections = new AtomicInteger();
  final Queue<Channel> parents = new ConcurrentLinkedQueue<>();
  final List<Http2Headers> requests = new CopyOnWriteArrayList<>();
  final List<Stream> streams = new CopyOnWriteArrayList<>();
  final List<Long> resetsReceived = new CopyOnWriteArrayList<>();
  final List<Long> resetsSent = new CopyOnWriteArrayList<>();
  final List<Http2Settings> clientSettings = new CopyOnWriteArrayList<>();
  final List<Integer> connectionWindowUpdates = new CopyOnWriteArrayList<>();
  final AtomicLong dataBytesSent = new AtomicLong();

  private H2TlsStub(String host, int maxConcurrentStreams, boolean http2, Responder responder)
      throws Exception {
    this.responder = responder;
    SslContext tls =
        SslContextBuilder.forServer(CERTS.serverKey(), CERTS.serverChain())
            .sslProvider(SslProvider.JDK)
            .applicationProtocolConfig(
                new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    http2 ? ApplicationProtocolNames.HTTP_2 : ApplicationProtocolNames.HTTP_1_1))
            .build();
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    connections.incrementAndGet();
                    parents.add(ch);
                    ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                    if (http2) {
                      ch.pipeline()
                          .addLast(
                              Http2FrameCodecBuilder.forServer()
                                  .initialSettings(
                                      Http2Settings.defaultSettings().maxConcurrentStreams(maxConcurrentStreams))
                                  .frameLogger(new Recorder())
                                  .build())
                          .addLast(
                              new Http2MultiplexHandler(
                                  new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel stream) {
                                      stream.pipeline().addLast(new Stream());
                                    }
                                  }));
                    } else {
                      ch.pipeline()
                          .addLast(new HttpServerCodec())
                          .addLast(new HttpObjectAggregator(1 << 20))
                          .addLast(new Http1Handler());
                    }
                  }
                })
            .bind(host, 0)
            .sync()
            .channel();
  }

  /** An HTTP/2 stub allowing many concurrent streams. */
  static H2TlsStub start(Responder responder) throws Exception {
    return new H2TlsStub("127.0.0.1", 1000, true, responder);
  }

  /** An HTTP/2 stub with a limit of concurrent streams. */
  static H2TlsStub start(int maxConcurrentStreams, Responder responder) throws Exception {
    return new H2TlsStub("127.0.0.1", maxConcurrentStreams, true, responder);
  }

  /** An HTTP/2 stub listening on another address. */
  static H2TlsStub startOn(String host, Responder responder) throws Exception {
    return new H2TlsStub(host, 1000, true, responder);
  }

  /** A stub that offers only http/1.1 with ALPN and answers every request with 200 "ok". */
  static H2TlsStub http1Only() throws Exception {
    return new H2TlsStub("127.0.0.1", 1000, false, (s, r) -> {});
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  String baseUrl(String host) {
    return "https://" + host + ":" + port();
  }

  /** An ApiClient (with the agent's own-token interceptor) that trusts the stub's CA. */
  ApiClient apiClient(String baseUrl) {
    ApiClient apiClient = Fixtures.inClusterLikeApiClient(baseUrl);
    apiClient.setSslCaCert(new ByteArrayInputStream(CERTS.caPem().getBytes(StandardCharsets.US_ASCII)));
    return apiClient;
  }

  ApiClient apiClient() {
    return apiClient(baseUrl("127.0.0.1"));
  }

  /** Sends GOAWAY (NO_ERROR) on every connection, then runs {@code after} on each open stream, in order. */
  void goAway(java.util.function.Consumer<Stream> after) {
    for (Channel parent : parents) {
      parent
          .eventLoop()
          .execute(
              () -> {
                parent.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
                for (Stream s : streams) {
                  if (s.ctx.channel().parent() == parent && s.ctx.channel().isActive()) {
                    after.accept(s);
                  }
                }
              });
    }
  }

  @Override
  public void close() {
    server.close();
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** One request stream on the stub. */
  final class Stream extends ChannelInboundHandlerAdapter {
    ChannelHandlerContext ctx;
    private Runnable onWritable = () -> {};

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    void head(int status, String... namesAndValues) {
      Http2Headers headers = new DefaultHttp2Headers().status(String.valueOf(status));
      for (int i = 0; i < namesAndValues.length; i += 2) {
        headers.add(namesAndValues[i], namesAndValues[i + 1]);
      }
      ctx.write(new DefaultHttp2HeadersFrame(headers, false));
    }

    void data(String text, boolean end) {
      ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), end));
    }

    void reset(Http2Error error) {
      ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(error));
    }

    /** Writes {@code body} in 16 KiB frames whenever flow control lets this stream write. */
    void writeAll(byte[] body) {
      int[] sent = {0};
      onWritable =
          () -> {
            while (sent[0] < body.length && ctx.channel().isWritable()) {
              int n = Math.min(16 * 1024, body.length - sent[0]);
              ByteBuf chunk = Unpooled.wrappedBuffer(body, sent[0], n);
              sent[0] += n;
              ctx.write(new DefaultHttp2DataFrame(chunk, sent[0] == body.length));
            }
            ctx.flush();
          };
      onWritable.run();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      onWritable.run();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame frame) {
          Http2Headers copy = new DefaultHttp2Headers(false);
          copy.add(frame.headers());
          requests.add(copy);
          streams.add(this);
          responder.respond(this, copy);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      ReferenceCountUtil.release(evt);
    }
  }

  /** Records the frames of every connection. */
  private final class Recorder extends Http2FrameLogger {
    Recorder() {
      super(LogLevel.TRACE);
    }

    @Override
    public void logData(
        Direction direction, ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endStream) {
      if (direction == Direction.OUTBOUND) {
        dataBytesSent.addAndGet(data.readableBytes());
      }
    }

    @Override
    public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
      (direction == Direction.INBOUND ? resetsReceived : resetsSent).add(errorCode);
    }

    @Override
    public void logSettings(Direction direction, ChannelHandlerContext ctx, Http2Settings settings) {
      if (direction == Direction.INBOUND) {
        clientSettings.add(settings);
      }
    }

    @Override
    public void logWindowsUpdate(Direction direction, ChannelHandlerContext ctx, int streamId, int increment) {
      if (direction == Direction.INBOUND && streamId == 0) {
        connectionWindowUpdates.add(increment);
      }
    }
  }

  /** Answers HTTP/1.1 requests with 200 "ok", keeping the connection open. */
  private final class Http1Handler extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof FullHttpRequest request) {
        Http2Headers seen = new DefaultHttp2Headers(false).path(request.uri()).method(request.method().name());
        requests.add(seen);
        request.release();
        DefaultFullHttpResponse response =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                HttpResponseStatus.OK,
                Unpooled.copiedBuffer("ok", StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 2);
        ctx.writeAndFlush(response);
      } else {
        ReferenceCountUtil.release(msg);
      }
    }
  }
}
