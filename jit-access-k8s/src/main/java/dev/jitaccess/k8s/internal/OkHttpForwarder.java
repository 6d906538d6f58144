package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.UpgradedConnection;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import okhttp3.Authenticator;
import okhttp3.CookieJar;
import okhttp3.Dispatcher;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.internal.http2.ErrorCode;
import okhttp3.internal.http2.StreamResetException;
import org.jspecify.annotations.Nullable;

/**
 * Forwards plain (not upgraded) requests with OkHttp, on a client derived from the {@code ApiClient}'s:
 * same connection pool, TLS, proxy and timeouts, but without the {@code ApiClient}'s interceptors (client-java
 * installs one that sets the agent's own {@code Authorization}), without authenticator, cookies or cache,
 * without following redirects and without retrying (except a body-less request whose HTTP/2 stream kube-apiserver
 * refused unprocessed).
 */
public final class OkHttpForwarder {
  /**
   * Concurrency of asynchronous calls. This forwarder uses blocking {@code execute()}, which the
   * dispatcher does not limit; the limits are raised anyway so that nothing in this client ever queues
   * watches behind OkHttp's default of 5 per host (kube-apiserver allows 100 HTTP/2 streams per
   * connection and opens more connections as needed).
   */
  static final int MAX_REQUESTS = 1000;

  /**
   * OkHttp repeats a request answered with {@code 503} and {@code Retry-After: 0} even with {@code
   * retryOnConnectionFailure(false)}. A network interceptor hides that header under this name from
   * OkHttp's retry logic; {@link #headersOf} puts it back.
   */
  /** How many times a body-less request refused with {@code REFUSED_STREAM} is sent again. */
  static final int MAX_REFUSED_RETRIES = 3;

  private static final String HIDDEN_RETRY_AFTER = "X-Jitaccess-Hidden-Retry-After";

  private final OkHttpClient client;
  private final ApiEndpoint endpoint;
  private final HttpUrl root;

  /** Derives the forwarding client from the {@code ApiClient}'s; the latter is not changed. */
  public OkHttpForwarder(OkHttpClient apiClientHttpClient, ApiEndpoint endpoint) {
    this.endpoint = endpoint;
    this.root = root(endpoint);
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(MAX_REQUESTS);
    dispatcher.setMaxRequestsPerHost(MAX_REQUESTS);
    OkHttpClient.Builder builder =
        apiClientHttpClient
            .newBuilder()
            .dispatcher(dispatcher)
            .followRedirects(false)
            .followSslRedirects(false)
            .retryOnConnectionFailure(false)
            .callTimeout(Duration.ZERO) // a watch may last for hours; readTimeout bounds idle time
            .authenticator(Authenticator.NONE)
            .cookieJar(CookieJar.NO_COOKIES)
            .cache(null);
    builder.interceptors().clear();
    builder.networkInterceptors().clear();
    builder.addNetworkInterceptor(OkHttpForwarder::hideRetryAfter);
    this.client = builder.build();
  }

  /** The client in use, for tests. */
  OkHttpClient client() {
    return client;
  }

  /**
   * Sends a checked request; the response body streams from the network.
   *
   * @throws IllegalArgumentException if the target would not be sent byte-for-byte
   * @throws dev.jitaccess.api.RelayException if kube-apiserver did not answer
   */
  public ForwardResponse forward(GuardedRequest guarded, ForwardRequest request, String bearerToken) {
    HttpUrl url = checkedUrl(root, endpoint, guarded);
    Request.Builder builder = new Request.Builder().url(url);
    boolean acceptEncoding = false;
    for (Map.Entry<String, String> header : guarded.headers()) {
      builder.addHeader(header.getKey(), header.getValue());
      acceptEncoding |= header.getKey().equalsIgnoreCase("Accept-Encoding");
    }
    if (!acceptEncoding) {
      // Without it OkHttp would ask for gzip and inflate the body itself; pass bytes through as they are.
      builder.header("Accept-Encoding", "identity");
    }
    builder.header("Authorization", "Bearer " + bearerToken);
    RequestBody body = bodyOf(guarded.method(), request);
    builder.method(guarded.method(), body);
    Request call = builder.build();
    Response response;
    try {
      response = execute(call, body == null);
    } catch (IOException e) {
      throw new RelayException(
          "kube-apiserver at "
              + endpoint.hostHeader()
              + " did not answer "
              + guarded.method()
              + " "
              + guarded.path()
              + " ("
              + e.getClass().getSimpleName()
              + "); the request was not retried",
          e);
    }
    return new OkHttpForwardResponse(response, headersOf(response.headers()));
  }

  /**
   * Sends a checked request on a thread of this client's dispatcher, for a caller that must not block (the
   * HTTP/2 forwarder falling back to HTTP/1.1).
   */
  public CompletableFuture<ForwardResponse> forwardLater(
      GuardedRequest guarded, ForwardRequest request, String bearerToken) {
    return CompletableFuture.supplyAsync(
        () -> forward(guarded, request, bearerToken), client.dispatcher().executorService());
  }

  /**
   * Checks that the target of a request would be sent byte-for-byte, without sending anything.
   *
   * @throws IllegalArgumentException if it would not
   */
  public void checkTarget(GuardedRequest guarded) {
    checkedUrl(root, endpoint, guarded);
  }

  /** Stops the threads of this client's own dispatcher; the connection pool belongs to the ApiClient. */
  public void close() {
    client.dispatcher().executorService().shutdown();
  }

  /** The endpoint's root URL ({@code scheme://host:port/}), which request targets are resolved against. */
  static HttpUrl root(ApiEndpoint endpoint) {
    return HttpUrl.get((endpoint.https() ? "https://" : "http://") + endpoint.hostHeader() + "/");
  }

  /**
   * The absolute URL of a checked request.
   *
   * @throws IllegalArgumentException if the target would not be sent byte-for-byte
   */
  static HttpUrl checkedUrl(HttpUrl root, ApiEndpoint endpoint, GuardedRequest guarded) {
    // Resolved against the endpoint's root rather than parsed whole: the same path and query canonicalization,
    // without parsing and IDNA-mapping the host on every request. The target starts with exactly one '/' (the
    // guard refuses empty segments and backslashes), so it cannot name another host; checked anyway.
    HttpUrl url = root.resolve(endpoint.prefix() + guarded.pathAndQuery());
    if (url == null
        || !url.host().equals(root.host())
        || url.port() != root.port()
        || !url.encodedPath().equals(endpoint.prefix() + guarded.path())
        || !Objects.equals(url.encodedQuery(), guarded.query())) {
      throw new IllegalArgumentException(
          "path '" + guarded.pathAndQuery() + "' is refused: it would not be sent byte-for-byte");
    }
    return url;
  }

  /**
   * Sends once, and again (at most {@link #MAX_REFUSED_RETRIES} times) only when kube-apiserver refused the stream
   * with HTTP/2 {@code REFUSED_STREAM}: it processed nothing (RFC 9113 §8.7), typically because a new connection was
   * used before its {@code SETTINGS} (the concurrent-stream limit) arrived. A request with a body is never repeated:
   * its body streams once.
   */
  private Response execute(Request call, boolean repeatable) throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        return client.newCall(call).execute();
      } catch (StreamResetException e) {
        if (!repeatable || e.errorCode != ErrorCode.REFUSED_STREAM || attempt >= MAX_REFUSED_RETRIES) {
          throw e;
        }
      }
    }
  }

  private static @Nullable RequestBody bodyOf(String method, ForwardRequest request) {
    InputStream body = request.body();
    if (body != null) {
      return new StreamingRequestBody(body, request.contentLength());
    }
    // OkHttp insists on a body for these methods and refuses one for GET and HEAD
    boolean needsBody = method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
    return needsBody ? RequestBody.create(new byte[0], null) : null;
  }

  private static Map<String, List<String>> headersOf(Headers headers) {
    List<Map.Entry<String, String>> list = new ArrayList<>(headers.size());
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      list.add(Map.entry(name.equalsIgnoreCase(HIDDEN_RETRY_AFTER) ? "Retry-After" : name, headers.value(i)));
    }
    return HopByHop.filterResponse(list, false);
  }

  private static Response hideRetryAfter(Interceptor.Chain chain) throws IOException {
    Response response = chain.proceed(chain.request());
    Headers headers = response.headers();
    if (headers.get(HIDDEN_RETRY_AFTER) == null && headers.get("Retry-After") == null) {
      return response;
    }
    Headers.Builder rewritten = new Headers.Builder();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i).toLowerCase(Locale.ROOT);
      if (name.equals(HIDDEN_RETRY_AFTER.toLowerCase(Locale.ROOT))) {
        continue; // never let the server speak in our private name
      }
      rewritten.add(name.equals("retry-after") ? HIDDEN_RETRY_AFTER : headers.name(i), headers.value(i));
    }
    return response.newBuilder().headers(rewritten.build()).build();
  }

  private record OkHttpForwardResponse(Response response, Map<String, List<String>> headers)
      implements ForwardResponse {
    @Override
    public int status() {
      return response.code();
    }

    @Override
    public InputStream body() {
      return Objects.requireNonNull(response.body(), "body").byteStream();
    }

    @Override
    public Optional<UpgradedConnection> upgraded() {
      return Optional.empty();
    }

    @Override
    public void close() {
      response.close();
    }
  }
}
