package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.ForwardResponse;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * Forwards body-less, non-upgrade requests over HTTP/2 with Netty, without a thread per request or response:
 * the returned future completes on an event loop when the response head arrives, and the body is read only as
 * its subscriber asks for it (see {@link Http2Exchange}).
 *
 * <p>Windows: each stream may receive {@code streamWindow} bytes ahead of its reader
 * (SETTINGS_INITIAL_WINDOW_SIZE); the connection window is raised to {@value Http2Connection#CONNECTION_WINDOW}
 * bytes right after the preface. Connections: see {@link Http2Pool}. TLS: trust, client certificates and
 * timeouts come from the {@code ApiClient}'s OkHttp client.
 *
 * <p>Event loops: a request sent from a thread of a Netty event loop whose transport can host a client socket
 * (NIO, or epoll when its native library loads) goes over a connection bound to <em>that</em> loop, so its head
 * and body signals arrive there without a thread hand-off (see {@link CallerLoopPools}); any other call uses
 * the forwarder's own loops. A borrowed loop is never shut down by the forwarder: {@link #close()} closes its
 * connections only.
 *
 * <p>Thread-safe.
 */
public final class Http2Forwarder implements AutoCloseable {
  /** The default of {@code streamWindow}. */
  public static final int DEFAULT_STREAM_WINDOW = 256 * 1024;

  private static final AsciiString AUTHORIZATION = AsciiString.cached("authorization");
  private static final Supplier<Throwable> FORWARDER_CLOSED =
      () -> new IllegalStateException("the forwarder is closed");

  private final ApiEndpoint endpoint;
  private final okhttp3.HttpUrl root;
  private final Threads threads = new Threads();
  private final EventLoopGroup group;
  private final AtomicReference<@Nullable NotHttp2Exception> notHttp2 = new AtomicReference<>();
  private final Http2Pool pool;
  private final boolean useCallerLoop;
  private final CallerLoopPools callerLoops;
  private final int readTimeoutMillis;

  /**
   * Sets up TLS and the event loops (whose threads start with the first connection).
   *
   * @param endpoint an https endpoint
   * @param client the ApiClient's OkHttp client: trust manager and timeouts
   * @param keyManagers the ApiClient's client certificates, or null
   * @param verifyHostname whether the server certificate must name the endpoint host
   * @param streamWindow the HTTP/2 stream window, in bytes
   * @param ioThreads the number of event loop threads
   * @param useCallerLoop whether a request sent from a Netty event loop goes over a connection on that loop
   * @throws IllegalStateException if TLS cannot be set up
   */
  public Http2Forwarder(
      ApiEndpoint endpoint,
      OkHttpClient client,
      KeyManager @Nullable [] keyManagers,
      boolean verifyHostname,
      int streamWindow,
      int ioThreads,
      boolean useCallerLoop) {
    this.endpoint = endpoint;
    this.root = OkHttpForwarder.root(endpoint);
    this.readTimeoutMillis = client.readTimeoutMillis();
    this.useCallerLoop = useCallerLoop;
    SslContext ssl = sslContext(client.x509TrustManager(), keyManagers, verifyHostname);
    this.group = new MultiThreadIoEventLoopGroup(ioThreads, threads, NioIoHandler.newFactory());
    Bootstrap bootstrap =
        new Bootstrap()
            .group(group)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, client.connectTimeoutMillis())
            .remoteAddress(endpoint.host(), endpoint.port());
    int connectTimeout = client.connectTimeoutMillis();
    Function<Channel, SslHandler> tls =
        (Channel ch) -> {
          SslHandler handler = ssl.newHandler(ch.alloc(), endpoint.host(), endpoint.port());
          if (connectTimeout > 0) {
            handler.setHandshakeTimeoutMillis(connectTimeout);
          }
          return handler;
        };
    Supplier<Http2FrameCodec> codecs = () -> codec(streamWindow);
    this.pool = new Http2Pool(bootstrap.clone().channel(NioSocketChannel.class), tls, codecs, notHttp2);
    this.callerLoops =
        new CallerLoopPools(
            pool, bootstrap, b -> new Http2Pool(b, tls, codecs, notHttp2), new OffLoopResolverGroup(group));
  }

  private static SslContext sslContext(
      @Nullable X509TrustManager trust, KeyManager @Nullable [] keyManagers, boolean verifyHostname) {
    try {
      SslContextBuilder builder =
          SslContextBuilder.forClient()
              .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
              .protocols("TLSv1.3", "TLSv1.2")
              .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
              .endpointIdentificationAlgorithm(verifyHostname ? "HTTPS" : null)
              .applicationProtocolConfig(
                  new ApplicationProtocolConfig(
                      ApplicationProtocolConfig.Protocol.ALPN,
                      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                      ApplicationProtocolNames.HTTP_2,
                      ApplicationProtocolNames.HTTP_1_1));
      if (trust != null) {
        builder.trustManager(trust);
      }
      if (keyManagers != null && keyManagers.length > 0) {
        builder.keyManager(keyManagers[0]);
      }
      return builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot set up TLS for HTTP/2 forwarding: " + e.getMessage(), e);
    }
  }

  private static Http2FrameCodec codec(int streamWindow) {
    return Http2FrameCodecBuilder.forClient()
        .initialSettings(Http2Settings.defaultSettings().initialWindowSize(streamWindow).pushEnabled(false))
        // never put the bearer token into the HPACK table (RFC 7541 §7.1.3)
        .headerSensitivityDetector((name, value) -> AUTHORIZATION.contentEqualsIgnoreCase(name))
        // a connection is closed with streams open only when the forwarder closes: then at once, after GOAWAY
        .gracefulShutdownTimeoutMillis(0)
        .validateHeaders(true)
        // said, not left to Netty's client default: kube-apiserver may reset every watch at once
        .decoderEnforceMaxRstFramesPerWindow(0, 0)
        .build();
  }

  /** Whether the server speaks HTTP/2: false once a connection negotiated anything else with ALPN. */
  public boolean usable() {
    return notHttp2.get() == null;
  }

  /**
   * Sends a checked, body-less request without blocking.
   *
   * @param onCallerLoop whether the request may go over a connection on the calling thread's event loop, if it
   *     runs on one (and the forwarder was built to); false when the caller will block for the answer, which
   *     would then never come
   * @return the head, completed on the event loop of the connection; fails with a {@link
   *     dev.jitaccess.api.RelayException}, with an {@link IllegalStateException} after {@link #close()}, or with
   *     an exception for which {@link #isNotHttp2(Throwable)} holds, when the server does not speak HTTP/2
   *     (nothing was sent)
   * @throws IllegalArgumentException if the target would not be sent byte-for-byte
   */
  public CompletableFuture<ForwardResponse> forward(
      GuardedRequest guarded, String bearerToken, boolean onCallerLoop) {
    OkHttpForwarder.checkedUrl(root, endpoint, guarded);
    Http2Headers headers =
        new DefaultHttp2Headers(true)
            .method(guarded.method())
            .scheme("https")
            .authority(endpoint.hostHeader())
            .path(endpoint.prefix() + guarded.pathAndQuery());
    for (Map.Entry<String, String> header : guarded.headers()) {
      String name = header.getKey().toLowerCase(Locale.ROOT);
      if (!name.equals("host")) {
        headers.add(name, header.getValue());
      }
    }
    headers.set(AUTHORIZATION, "Bearer " + bearerToken);
    Http2Call call =
        new Http2Call(
            useCallerLoop && onCallerLoop ? callerLoops.forThisThread() : pool,
            headers,
            guarded.method(),
            guarded.path(),
            endpoint.hostHeader(),
            readTimeoutMillis);
    call.attempt(0);
    return call.result();
  }

  /**
   * For tests: the open connections on {@code loop}'s pool, or on the forwarder's own loops if null; -1 if
   * {@code loop} has no pool of its own.
   */
  public int connections(@Nullable EventLoop loop) {
    return loop == null ? pool.connections() : callerLoops.connections(loop);
  }

  /** For tests: how many threads of the forwarder's own event loops were started. */
  public int ownThreadsStarted() {
    return threads.started.get();
  }

  /** Whether a failure of {@link #forward} means: send it with HTTP/1.1 instead. */
  public static boolean isNotHttp2(Throwable failure) {
    Throwable t = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause()
        : failure;
    return t instanceof NotHttp2Exception;
  }

  /**
   * Closes the connections of every pool, those on borrowed loops included, and stops the forwarder's own
   * event loops (never a borrowed one); waits for them unless called on a Netty event loop, which must not
   * block. Idempotent.
   */
  @Override
  public void close() {
    List<ChannelFuture> closing = pool.close(FORWARDER_CLOSED);
    callerLoops.close(FORWARDER_CLOSED);
    // The own loops stop once their connections are closed: a loop shut down while it runs a task may end
    // without closing its sockets.
    Runnable shutDown = () -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    if (closing.isEmpty()) {
      shutDown.run();
    } else {
      AtomicInteger open = new AtomicInteger(closing.size());
      for (ChannelFuture f : closing) {
        f.addListener(
            done -> {
              if (open.decrementAndGet() == 0) {
                shutDown.run();
              }
            });
      }
      try {
        group.schedule(shutDown, 3, TimeUnit.SECONDS); // in case a close hangs
      } catch (RejectedExecutionException alreadyShutDown) {
        // nothing left to stop
      }
    }
    if (ThreadExecutorMap.currentExecutor() == null) {
      group.terminationFuture().awaitUninterruptibly(8, TimeUnit.SECONDS);
    }
  }

  /** Daemon threads named {@code jit-k8s-forward-N}. */
  private static final class Threads implements ThreadFactory {
    private static final AtomicInteger NEXT = new AtomicInteger(1);
    final AtomicInteger started = new AtomicInteger();

    @Override
    public Thread newThread(Runnable r) {
      started.incrementAndGet();
      Thread t = new ForwarderThread(r, "jit-k8s-forward-" + NEXT.getAndIncrement());
      t.setDaemon(true);
      return t;
    }

    private static final class ForwarderThread extends FastThreadLocalThread {
      ForwarderThread(Runnable r, String name) {
        super(r, name);
      }
    }
  }
}
