package dev.jitaccess.benchmarks.relay;

import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1ClusterRoleBindingList;
import io.kubernetes.client.openapi.models.V1ListMeta;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1NamespaceSpec;
import io.kubernetes.client.openapi.models.V1NamespaceStatus;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1RoleBindingList;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReview;
import io.kubernetes.client.openapi.models.V1ServiceAccountList;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.V1SubjectAccessReviewStatus;
import io.kubernetes.client.openapi.models.V1TokenRequestStatus;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.ReferenceCountUtil;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A loopback kube-apiserver stand-in over TLS and HTTP/2 only (ALPN {@code h2}; at most 100 concurrent
 * streams per connection, like kube-apiserver), run as its own JVM by {@link RelayLoad} so that its heap and
 * CPU are not counted as the relay's. Every answer is built from client-java's own models.
 *
 * <p>Answers: {@code GET /api/v1/namespaces/default} (a small Namespace); any {@code GET ...?watch=true}
 * (200 headers, then idle); {@code GET /big?bytes=N} (N bytes, written only while the stream's flow-control
 * window allows); the provisioning calls (ServiceAccount and binding lists and creates, TokenRequest,
 * SelfSubjectAccessReview). Each request is counted by method and path.
 *
 * <p>Control is a line protocol on stdin/stdout: {@code delay <ms>} sets the per-request delay, {@code counts}
 * prints the counters (and resets nothing), {@code reset} zeroes them. The first line printed is
 * {@code port <n>}.
 */
public final class StubApiServer {
  private static final byte[] FILLER = new byte[16 * 1024];
  private static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();
  private static final byte[] NAMESPACE =
      JSON.serialize(
              new V1Namespace()
                  .apiVersion("v1")
                  .kind("Namespace")
                  .metadata(
                      new V1ObjectMeta()
                          .name("default")
                          .uid("4a1b7f0c-1e3d-4c55-9a8b-2f6e0d9c7b31")
                          .resourceVersion("42")
                          .labels(Map.of("kubernetes.io/metadata.name", "default"))
                          .creationTimestamp(OffsetDateTime.of(2026, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC)))
                  .spec(new V1NamespaceSpec().finalizers(List.of("kubernetes")))
                  .status(new V1NamespaceStatus().phase("Active")))
          .getBytes(StandardCharsets.UTF_8);

  private static volatile long delayNanos;

  private StubApiServer() {}

  /**
   * Starts the stub.
   *
   * @param args the PEM certificate chain file and the PKCS#8 PEM key file
   * @throws Exception if it cannot start
   */
  public static void main(String[] args) throws Exception {
    SslContext tls =
        SslContextBuilder.forServer(new File(args[0]), new File(args[1]))
            .sslProvider(SslProvider.JDK)
            .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
            .applicationProtocolConfig(
                new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ApplicationProtocolNames.HTTP_2))
            .build();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
    Channel server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    count("connections");
                    count("open connections");
                    ch.closeFuture().addListener(f -> count("open connections", -1));
                    ch.pipeline()
                        .addLast(
                            tls.newHandler(ch.alloc()),
                            Http2FrameCodecBuilder.forServer()
                                .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(100))
                                // like kube-apiserver (Go's HTTP/2 server bounds running handlers, it does
                                // not count resets): closing 1,000 watches must not cost the connection
                                .decoderEnforceMaxRstFramesPerWindow(0, 0)
                                .build(),
                            new Http2MultiplexHandler(
                                new ChannelInitializer<Http2StreamChannel>() {
                                  @Override
                                  protected void initChannel(Http2StreamChannel stream) {
                                    stream.pipeline().addLast(new StreamHandler());
                                  }
                                }));
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .sync()
            .channel();
    PrintStream out = System.out;
    out.println("port " + ((InetSocketAddress) server.localAddress()).getPort());
    out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.startsWith("delay ")) {
        delayNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(line.substring(6).trim()));
        out.println("ok");
      } else if (line.equals("reset")) {
        COUNTS.keySet().removeIf(k -> !k.startsWith("open "));
        out.println("ok");
      } else if (line.equals("trace")) {
        StringBuilder s = new StringBuilder();
        for (String entry; (entry = TRACE.poll()) != null; ) {
          s.append(entry).append(';');
        }
        out.println(s);
      } else if (line.equals("counts")) {
        StringBuilder s = new StringBuilder();
        new TreeMap<>(COUNTS).forEach((k, v) -> s.append(k).append('=').append(v.sum()).append(';'));
        out.println(s);
      } else {
        out.println("unknown command");
      }
      out.flush();
    }
    server.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  /**
   * When each request arrived and was answered ({@code System.nanoTime()}, which is the same monotonic clock in
   * every JVM on this host), for the driver's cold-path gap analysis; the newest 256 are kept.
   */
  private static final java.util.concurrent.ConcurrentLinkedQueue<String> TRACE =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  private static void trace(long arrived, String method, String path) {
    TRACE.add(arrived + " " + System.nanoTime() + " " + method + " " + path);
    while (TRACE.size() > 256) {
      TRACE.poll();
    }
  }

  private static void count(String key) {
    count(key, 1);
  }

  private static void count(String key, long n) {
    COUNTS.computeIfAbsent(key, k -> new LongAdder()).add(n);
  }

  /** One HTTP/2 stream: collects the request, answers after the configured delay. */
  private static final class StreamHandler extends ChannelInboundHandlerAdapter {
    private Http2Headers request;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private long bigRemaining;
    private boolean watching;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame headers) {
          request = headers.headers();
          if (headers.isEndStream()) {
            dispatch(ctx);
          }
        } else if (msg instanceof Http2DataFrame data) {
          ByteBuf content = data.content();
          content.readBytes(body, content.readableBytes());
          if (data.isEndStream()) {
            dispatch(ctx);
          }
        }
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private long arrived;

    private void dispatch(ChannelHandlerContext ctx) {
      arrived = System.nanoTime();
      long delay = delayNanos;
      if (delay > 0) {
        ctx.executor().schedule(() -> answer(ctx), delay, TimeUnit.NANOSECONDS);
      } else {
        answer(ctx);
      }
    }

    private void answer(ChannelHandlerContext ctx) {
      String method = request.method().toString();
      String full = request.path().toString();
      int q = full.indexOf('?');
      String path = q < 0 ? full : full.substring(0, q);
      String query = q < 0 ? "" : full.substring(q + 1);
      trace(arrived, method, path);
      if (method.equals("GET") && query.contains("watch=true")) {
        count("GET watch");
        count("open watches");
        watching = true;
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(headers(200), false));
      } else if (method.equals("GET") && path.equals("/api/v1/namespaces/default")) {
        count("GET namespace");
        send(ctx, 200, NAMESPACE);
      } else if (method.equals("GET") && path.equals("/big")) {
        count("GET big");
        bigRemaining = Long.parseLong(query.substring(query.indexOf("bytes=") + 6));
        ctx.write(new DefaultHttp2HeadersFrame(headers(200).set("content-type", "application/octet-stream"), false));
        pump(ctx);
      } else {
        count(method + " " + path);
        provisioning(ctx, method, path);
      }
    }

    private void provisioning(ChannelHandlerContext ctx, String method, String path) {
      String json = new String(body.toByteArray(), StandardCharsets.UTF_8);
      V1ListMeta listMeta = new V1ListMeta().resourceVersion("5000");
      if (method.equals("POST") && path.endsWith("/token")) {
        AuthenticationV1TokenRequest token = JSON.deserialize(json, AuthenticationV1TokenRequest.class);
        token.status(
            new V1TokenRequestStatus()
                .token("sa-token-" + path.hashCode())
                .expirationTimestamp(OffsetDateTime.now(ZoneOffset.UTC).plusHours(2)));
        send(ctx, 201, JSON.serialize(token).getBytes(StandardCharsets.UTF_8));
      } else if (method.equals("POST") && path.endsWith("/selfsubjectaccessreviews")) {
        V1SelfSubjectAccessReview review = JSON.deserialize(json, V1SelfSubjectAccessReview.class);
        review.status(new V1SubjectAccessReviewStatus().allowed(false));
        send(ctx, 201, JSON.serialize(review).getBytes(StandardCharsets.UTF_8));
      } else if (method.equals("POST") || method.equals("PATCH")) {
        // creates echo what was sent, as kube-apiserver returns the stored object
        send(ctx, method.equals("POST") ? 201 : 200, body.toByteArray());
      } else if (method.equals("GET") && path.endsWith("/serviceaccounts")) {
        Object list = new V1ServiceAccountList().apiVersion("v1").kind("ServiceAccountList").metadata(listMeta).items(List.of());
        send(ctx, 200, JSON.serialize(list).getBytes(StandardCharsets.UTF_8));
      } else if (method.equals("GET") && path.endsWith("/clusterrolebindings")) {
        Object list =
            new V1ClusterRoleBindingList()
                .apiVersion("rbac.authorization.k8s.io/v1")
                .kind("ClusterRoleBindingList")
                .metadata(listMeta)
                .items(List.of());
        send(ctx, 200, JSON.serialize(list).getBytes(StandardCharsets.UTF_8));
      } else if (method.equals("GET") && path.endsWith("/rolebindings")) {
        Object list =
            new V1RoleBindingList()
                .apiVersion("rbac.authorization.k8s.io/v1")
                .kind("RoleBindingList")
                .metadata(listMeta)
                .items(List.of());
        send(ctx, 200, JSON.serialize(list).getBytes(StandardCharsets.UTF_8));
      } else {
        V1Status status =
            new V1Status().apiVersion("v1").kind("Status").status("Failure").reason("NotFound").code(404)
                .message("the stub does not serve " + method + " " + path);
        send(ctx, 404, JSON.serialize(status).getBytes(StandardCharsets.UTF_8));
      }
    }

    private void pump(ChannelHandlerContext ctx) {
      while (bigRemaining > 0 && ctx.channel().isWritable()) {
        int n = (int) Math.min(FILLER.length, bigRemaining);
        bigRemaining -= n;
        count("big bytes sent", n);
        ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(FILLER, 0, n), bigRemaining == 0));
      }
      ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (bigRemaining > 0) {
        pump(ctx);
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      bigRemaining = 0;
      if (watching) {
        count("open watches", -1);
        watching = false;
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }

    private static Http2Headers headers(int status) {
      return new DefaultHttp2Headers().status(Integer.toString(status)).set("content-type", "application/json");
    }

    private static void send(ChannelHandlerContext ctx, int status, byte[] bytes) {
      ctx.write(new DefaultHttp2HeadersFrame(headers(status).setInt("content-length", bytes.length), false));
      ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), true));
    }
  }
}
