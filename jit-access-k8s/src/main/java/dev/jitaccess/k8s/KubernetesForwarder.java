package dev.jitaccess.k8s;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.spi.ClusterForwarder;

import dev.jitaccess.k8s.internal.ApiEndpoint;
import dev.jitaccess.k8s.internal.GuardedRequest;
import dev.jitaccess.k8s.internal.Http2Forwarder;
import dev.jitaccess.k8s.internal.OkHttpForwarder;
import dev.jitaccess.k8s.internal.RequestGuard;
import dev.jitaccess.k8s.internal.UpgradeForwarder;
import io.kubernetes.client.openapi.ApiClient;
import java.net.Proxy;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * Forwards user requests to kube-apiserver with a just-in-time ServiceAccount token, over the connection
 * settings of an {@link ApiClient}: its base path, TLS trust and client certificates, proxy and timeouts.
 * There is no rate limiter on this path.
 *
 * <p><b>Body-less requests over HTTP/2, without a thread per request.</b> A request without body and without
 * upgrade, to an {@code https} endpoint reached without proxy, goes through a Netty HTTP/2 client when the
 * server negotiates {@code h2} with ALPN: {@link #forwardAsync} returns at once, its future completes on an
 * event loop when the response head arrives, and the response's {@link ForwardResponse#bodyPublisher()} reads
 * the body from the network only as its subscriber asks (an idle watch holds no thread). Each stream may
 * receive {@link Builder#streamWindow(int)} bytes (default 256 KiB) ahead of its reader, so a slow reader makes
 * the agent hold at most that much for its response; the connection window is 32 MiB. Connections are pooled:
 * a stream opens on a connection whose server SETTINGS arrived and that has fewer streams than the server's
 * MAX_CONCURRENT_STREAMS (kube-apiserver allows 100), else one more connection is opened; a connection is
 * dropped on GOAWAY (its streams finish) and closed after 5 minutes without streams. If the server
 * negotiates anything but {@code h2}, the forwarder remembers it and sends every request through OkHttp.
 *
 * <p><b>Threads of the HTTP/2 path.</b> When {@link #forwardAsync} is called on a thread of a Netty event loop
 * (Netty 4.2's {@code IoEventLoop}, as the relay agent does) whose transport is NIO, or epoll with its native
 * library loaded, the request goes over a connection bound to <em>that</em> loop: one pool of connections per
 * such loop, with the limits above, opened on first use. The head future then completes, and the body
 * subscriber's signals run, on the calling loop: no thread hand-off either way. The forwarder never owns such
 * a borrowed loop: it never blocks on it (a host name, unlike an IP address, is looked up on the forwarder's own
 * threads), {@link #close()} closes the connections there but leaves the loop running, and when its owner shuts
 * the loop down, the requests in flight there fail with a {@link RelayException} and later calls from other
 * threads are not affected. A call from any other thread, from a loop of another transport, a blocking {@link
 * #forward}, and every call when {@link Builder#useCallerEventLoop(boolean) useCallerEventLoop(false)} was set,
 * use the forwarder's own I/O threads (daemon threads named {@code jit-k8s-forward-N}, {@link
 * Builder#ioThreads(int)} of them, started on first use). Whatever the loop, do not read a response's blocking
 * {@link ForwardResponse#body()} on the loop that delivers it: such a read fails rather than wait for itself.
 *
 * <p><b>Everything else goes through OkHttp</b>, on the calling thread, over the {@code ApiClient}'s HTTP
 * client and connection pool: requests with a body, plain {@code http} endpoints, proxied clients. Upgrade
 * requests (exec, attach, port-forward over SPDY/3.1 or WebSocket) use a dedicated HTTP/1.1 socket with the
 * same TLS settings; HTTP proxies and certificate pins of the {@code ApiClient} do not apply to them (nor to
 * the HTTP/2 path).
 *
 * <p>What is <em>not</em> taken from the {@code ApiClient}: its interceptors (client-java's token
 * authentications install one that would replace the user's token with the agent's own), authenticator,
 * cookies and cache. Redirects are never followed and requests are never retried, except a body-less request
 * whose HTTP/2 stream kube-apiserver refused unprocessed ({@code REFUSED_STREAM}, at most 3 times), not even
 * after a {@code 503} with {@code Retry-After: 0}. Nothing is decompressed: bytes pass through as they are.
 * The {@code ApiClient}'s read timeout bounds the wait for a response head and the time between two reads of
 * a body while its reader waits for more (an idle watch without bookmarks needs a generous one, or none);
 * there is no timeout on a whole call, so long watches and {@code logs -f} work.
 *
 * <p>Instances are thread-safe. The {@code ApiClient} is read once, by {@link Builder#build()}; later
 * changes to it are not seen. {@link #close()} the forwarder when done with it: it closes the HTTP/2
 * connections (on its own and on borrowed loops) and stops its own I/O threads.
 *
 * @since 0.1.0
 */
public final class KubernetesForwarder implements ClusterForwarder, AutoCloseable {
  private final OkHttpForwarder plain;
  private final UpgradeForwarder upgrades;
  private final @Nullable Http2Forwarder http2;
  private final AtomicBoolean closed = new AtomicBoolean();

  private KubernetesForwarder(
      OkHttpClient httpClient, ApiEndpoint endpoint, @Nullable Http2Forwarder http2) {
    this.plain = new OkHttpForwarder(httpClient, endpoint);
    this.upgrades = new UpgradeForwarder(httpClient, endpoint);
    this.http2 = http2;
  }

  /**
   * Starts building a forwarder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Waits for {@link #forwardAsync}. Plain requests stream their body from the network. Upgrade requests
   * go through their own socket; an answer other than a matching {@code 101} is read whole (at most 1 MiB),
   * the socket is closed, and it is returned as an ordinary response without upgraded connection.
   *
   * @throws IllegalStateException if the forwarder is closed
   */
  @Override
  public ForwardResponse forward(ForwardRequest request, String bearerToken) {
    CompletableFuture<ForwardResponse> response = dispatch(request, bearerToken, true);
    try {
      return response.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new RelayException("forwarding failed (" + e.getClass().getSimpleName() + ")", cause);
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Non-blocking for a body-less, non-upgrade request to an {@code https} endpoint without proxy whose
   * server speaks HTTP/2 (see the class description); the response then offers a {@link
   * ForwardResponse#bodyPublisher() body publisher}, and {@link ForwardResponse#body()} as a blocking
   * alternative. Called on a Netty event loop, the HTTP/2 connection is one on that loop and the future
   * completes there (see the class description). Another body-less, non-upgrade request is sent on a thread of
   * the forwarder's OkHttp
   * dispatcher, so this method never blocks for one (see {@link #isNonBlocking()}); a request with a body
   * and an upgrade request are sent on the calling thread, which waits for the head.
   *
   * @throws IllegalStateException if the forwarder is closed
   */
  @Override
  public CompletableFuture<ForwardResponse> forwardAsync(ForwardRequest request, String bearerToken) {
    return dispatch(request, bearerToken, false);
  }

  /**
   * {@inheritDoc}
   *
   * @return true: a body-less, non-upgrade request that cannot go over HTTP/2 (plain {@code http}, a proxy, a
   *     server without {@code h2}) is sent on a thread of the forwarder's OkHttp dispatcher instead of the
   *     caller's
   */
  @Override
  public boolean isNonBlocking() {
    return true;
  }

  /** For tests: the HTTP/2 connections on {@code loop}'s own pool (on the forwarder's if null), -1 if none. */
  int http2Connections(io.netty.channel.@Nullable EventLoop loop) {
    Http2Forwarder h2 = http2;
    return h2 == null ? -1 : h2.connections(loop);
  }

  /** For tests: how many of the forwarder's own I/O threads were started. */
  int ioThreadsStarted() {
    Http2Forwarder h2 = http2;
    return h2 == null ? 0 : h2.ownThreadsStarted();
  }

  private CompletableFuture<ForwardResponse> dispatch(
      ForwardRequest request, String bearerToken, boolean mayBlock) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(bearerToken, "bearerToken");
    if (closed.get()) {
      throw new IllegalStateException("the forwarder is closed");
    }
    GuardedRequest guarded = RequestGuard.check(request, bearerToken);
    Http2Forwarder h2 = http2;
    if (h2 != null && guarded.upgrade() == null && request.body() == null && h2.usable()) {
      // a blocking forward() must not wait on a loop for an answer that this very loop would deliver
      return h2.forward(guarded, bearerToken, !mayBlock)
          .exceptionallyCompose(
              e ->
                  Http2Forwarder.isNotHttp2(e)
                      ? plain.forwardLater(guarded, request, bearerToken)
                      : CompletableFuture.failedFuture(e));
    }
    if (!mayBlock && guarded.upgrade() == null && request.body() == null) {
      plain.checkTarget(guarded); // refused at once, as promised, not in the future
      return plain.forwardLater(guarded, request, bearerToken);
    }
    try {
      return CompletableFuture.completedFuture(
          guarded.upgrade() == null
              ? plain.forward(guarded, request, bearerToken)
              : upgrades.forward(guarded, bearerToken));
    } catch (RelayException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Closes the HTTP/2 connections, those on callers' event loops included, and stops the forwarder's own I/O
   * threads (waiting for them a few seconds, unless called on a Netty event loop); a caller's event loop keeps
   * running. Responses still open break off. Idempotent. Later calls of {@link #forward} and {@link
   * #forwardAsync} throw {@link IllegalStateException}.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (http2 != null) {
      http2.close();
    }
    plain.close();
  }

  /**
   * Builds a {@link KubernetesForwarder}. Not thread-safe; {@link #build()} may be called more than once.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    /** The smallest {@link #streamWindow(int)}: 16 KiB, one frame. */
    public static final int MIN_STREAM_WINDOW = 16 * 1024;

    /** The largest {@link #streamWindow(int)}: 16 MiB. */
    public static final int MAX_STREAM_WINDOW = 16 * 1024 * 1024;

    /** The default {@link #streamWindow(int)}: 256 KiB. */
    public static final int DEFAULT_STREAM_WINDOW = Http2Forwarder.DEFAULT_STREAM_WINDOW;

    /** The largest {@link #ioThreads(int)}. */
    public static final int MAX_IO_THREADS = 64;

    private @Nullable ApiClient apiClient;
    private int streamWindow;
    private int ioThreads;
    private @Nullable Boolean useCallerEventLoop;

    private Builder() {}

    /**
     * The client whose connection settings are used: base path, TLS, proxy, timeouts, connection pool. Its
     * own credentials are never used. Required.
     *
     * @param apiClient a configured client, for example from {@code ClientBuilder.cluster().build()}
     * @return this builder
     * @throws NullPointerException if {@code apiClient} is null
     * @throws IllegalStateException if it was already set
     * @throws IllegalArgumentException if its base path is not an http or https URL
     */
    public Builder apiClient(ApiClient apiClient) {
      Objects.requireNonNull(apiClient, "apiClient");
      if (this.apiClient != null) {
        throw new IllegalStateException("apiClient was already set");
      }
      ApiEndpoint.parse(apiClient.getBasePath());
      this.apiClient = apiClient;
      return this;
    }

    /**
     * How many bytes of one HTTP/2 response kube-apiserver may send ahead of its reader (the
     * SETTINGS_INITIAL_WINDOW_SIZE the forwarder announces). A slow reader makes the forwarder hold at most
     * this much for its response; a larger window serves fast readers over long round trips better. Default
     * {@value #DEFAULT_STREAM_WINDOW} bytes.
     *
     * @param bytes the window, from {@value #MIN_STREAM_WINDOW} (16 KiB) to {@value #MAX_STREAM_WINDOW}
     *     (16 MiB)
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is out of range
     * @throws IllegalStateException if it was already set
     */
    public Builder streamWindow(int bytes) {
      if (bytes < MIN_STREAM_WINDOW || bytes > MAX_STREAM_WINDOW) {
        throw new IllegalArgumentException(
            "streamWindow must be from 16384 (16 KiB) to 16777216 (16 MiB) bytes but was " + bytes);
      }
      if (streamWindow != 0) {
        throw new IllegalStateException("streamWindow was already set to " + streamWindow);
      }
      this.streamWindow = bytes;
      return this;
    }

    /**
     * How many I/O threads serve the HTTP/2 connections; they are shared by all requests and responses of
     * the forwarder and never block. Default 1.
     *
     * @param threads from 1 to {@value #MAX_IO_THREADS}
     * @return this builder
     * @throws IllegalArgumentException if {@code threads} is out of range
     * @throws IllegalStateException if it was already set
     */
    public Builder ioThreads(int threads) {
      if (threads < 1 || threads > MAX_IO_THREADS) {
        throw new IllegalArgumentException(
            "ioThreads must be from 1 to " + MAX_IO_THREADS + " but was " + threads);
      }
      if (ioThreads != 0) {
        throw new IllegalStateException("ioThreads was already set to " + ioThreads);
      }
      this.ioThreads = threads;
      return this;
    }

    /**
     * Whether a request sent from a Netty event loop goes over an HTTP/2 connection on that loop. When {@link
     * KubernetesForwarder#forwardAsync} is called on a Netty event loop (the relay agent's), its HTTP/2
     * connection lives on that loop, so the answer comes back without a thread hand-off; false = always the
     * forwarder's own threads. That loop is only borrowed: the forwarder never blocks on it nor shuts it down.
     * Default true.
     *
     * @param use true to use the caller's event loop, false for the forwarder's own I/O threads only
     * @return this builder
     * @throws IllegalStateException if it was already set
     */
    public Builder useCallerEventLoop(boolean use) {
      if (useCallerEventLoop != null) {
        throw new IllegalStateException("useCallerEventLoop was already set to " + useCallerEventLoop);
      }
      this.useCallerEventLoop = use;
      return this;
    }

    /**
     * Builds the forwarder, reading the {@code ApiClient}'s HTTP client, trust manager, client certificates
     * and whether it verifies server certificates.
     *
     * @return a new, thread-safe forwarder, to be {@linkplain KubernetesForwarder#close() closed}
     * @throws IllegalStateException if no {@link #apiClient(ApiClient)} was set, or TLS cannot be set up
     */
    public KubernetesForwarder build() {
      if (apiClient == null) {
        throw new IllegalStateException(
            "apiClient must be set: pass the ApiClient that reaches this cluster's kube-apiserver");
      }
      OkHttpClient client = apiClient.getHttpClient();
      ApiEndpoint endpoint = ApiEndpoint.parse(apiClient.getBasePath());
      Proxy proxy = client.proxy();
      Http2Forwarder http2 = null;
      // Without the client's trust manager (an SSLSocketFactory set without one) Netty could not trust
      // exactly what OkHttp trusts: such clients stay on OkHttp.
      if (endpoint.https()
          && (proxy == null || proxy.equals(Proxy.NO_PROXY))
          && client.x509TrustManager() != null) {
        http2 =
            new Http2Forwarder(
                endpoint,
                client,
                apiClient.getKeyManagers(),
                apiClient.isVerifyingSsl(),
                streamWindow == 0 ? DEFAULT_STREAM_WINDOW : streamWindow,
                ioThreads == 0 ? 1 : ioThreads,
                useCallerEventLoop == null || useCallerEventLoop);
      }
      return new KubernetesForwarder(client, endpoint, http2);
    }
  }
}
