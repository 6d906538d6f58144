package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.ForwardResponse;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
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
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>Thread-safe.
 */
public final class Http2Forwarder implements AutoCloseable {
  /** The default of {@code streamWindow}. */
  public static final int DEFAULT_STREAM_WINDOW = 256 * 1024;

  private static final AsciiString AUTHORIZATION = AsciiString.cached("authorization");

  private final ApiEndpoint endpoint;
  private final EventLoopGroup group;
  private final Http2Pool pool;
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
   * @throws IllegalStateException if TLS cannot be set up
   */
  public Http2Forwarder(
      ApiEndpoint endpoint,
      OkHttpClient client,
      KeyManager @Nullable [] keyManagers,
      boolean verifyHostname,
      int streamWindow,
      int ioThreads) {
    this.endpoint = endpoint;
    this.readTimeoutMillis = client.readTimeoutMillis();
    SslContext ssl = sslContext(client.x509TrustManager(), keyManagers, verifyHostname);
    this.group = new MultiThreadIoEventLoopGroup(ioThreads, new Threads(), NioIoHandler.newFactory());
    Bootstrap bootstrap =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, client.connectTimeoutMillis())
            .remoteAddress(endpoint.host(), endpoint.port());
    int connectTimeout = client.connectTimeoutMillis();
    this.pool =
        new Http2Pool(
            bootstrap,
            (Channel ch) -> {
              SslHandler handler = ssl.newHandler(ch.alloc(), endpoint.host(), endpoint.port());
              if (connectTimeout > 0) {
                handler.setHandshakeTimeoutMillis(connectTimeout);
              }
              return handler;
            },
            () -> codec(streamWindow));
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
        .validateHeaders(true)
        .build();
  }

  /** Whether the server speaks HTTP/2: false once a connection negotiated anything else with ALPN. */
  public boolean usable() {
    return pool.usable();
  }

  /**
   * Sends a checked, body-less request without blocking.
   *
   * @return the head; fails with a {@link dev.jitaccess.api.RelayException}, with an {@link
   *     IllegalStateException} after {@link #close()}, or with an exception for which {@link
   *     #isNotHttp2(Throwable)} holds, when the server does not speak HTTP/2 (nothing was sent)
   * @throws IllegalArgumentException if the target would not be sent byte-for-byte
   */
  public CompletableFuture<ForwardResponse> forward(GuardedRequest guarded, String bearerToken) {
    OkHttpForwarder.checkedUrl(endpoint, guarded);
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
        new Http2Call(pool, headers, guarded.method(), guarded.path(), endpoint.hostHeader(), readTimeoutMillis);
    call.attempt(0);
    return call.result();
  }

  /** Whether a failure of {@link #forward} means: send it with HTTP/1.1 instead. */
  public static boolean isNotHttp2(Throwable failure) {
    Throwable t = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause()
        : failure;
    return t instanceof NotHttp2Exception;
  }

  /**
   * Closes the connections and stops the event loops; waits for them unless called on one. Idempotent.
   */
  @Override
  public void close() {
    pool.close();
    io.netty.util.concurrent.Future<?> terminated = group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    if (!(Thread.currentThread() instanceof Threads.ForwarderThread)) {
      terminated.awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }

  /** Daemon threads named {@code jit-k8s-forward-N}. */
  private static final class Threads implements ThreadFactory {
    private static final AtomicInteger NEXT = new AtomicInteger(1);

    @Override
    public Thread newThread(Runnable r) {
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
