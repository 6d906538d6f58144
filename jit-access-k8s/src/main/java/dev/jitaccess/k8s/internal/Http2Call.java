package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.concurrent.CompletableFuture;

/**
 * One body-less request on the HTTP/2 path: acquires a stream slot, opens the stream, and sends the request
 * again (at most {@link OkHttpForwarder#MAX_REFUSED_RETRIES} times) when kube-apiserver refused the stream
 * unprocessed. Thread-safe: attempts follow one another.
 */
final class Http2Call {
  private final Http2Pool pool;
  private final Http2Headers headers;
  private final String method;
  private final String path;
  private final String authority;
  private final int readTimeoutMillis;
  private final CompletableFuture<ForwardResponse> result = new CompletableFuture<>();

  Http2Call(Http2Pool pool, Http2Headers headers, String method, String path, String authority, int readTimeoutMillis) {
    this.pool = pool;
    this.headers = headers;
    this.method = method;
    this.path = path;
    this.authority = authority;
    this.readTimeoutMillis = readTimeoutMillis;
  }

  CompletableFuture<ForwardResponse> result() {
    return result;
  }

  Http2Headers headers() {
    return headers;
  }

  int readTimeoutMillis() {
    return readTimeoutMillis;
  }

  /** Starts attempt {@code n} (0 for the first). */
  void attempt(int n) {
    pool.acquire()
        .whenComplete(
            (connection, error) -> {
              if (error != null) {
                fail(error);
              } else {
                new Http2Exchange(this, pool, connection, n).open();
              }
            });
  }

  /** Attempt {@code n} was refused unprocessed: tries again, or gives up after the last retry. */
  void refused(int n, Http2ResetException cause) {
    if (n >= OkHttpForwarder.MAX_REFUSED_RETRIES) {
      fail(cause);
    } else {
      attempt(n + 1);
    }
  }

  /** Fails the call; a {@link NotHttp2Exception} or {@link IllegalStateException} passes as it is. */
  void fail(Throwable cause) {
    Throwable c = cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null
        ? cause.getCause()
        : cause;
    if (c instanceof NotHttp2Exception || c instanceof IllegalStateException) {
      result.completeExceptionally(c);
    } else {
      result.completeExceptionally(
          new RelayException(
              "kube-apiserver at "
                  + authority
                  + " did not answer "
                  + method
                  + " "
                  + path
                  + " ("
                  + c.getClass().getSimpleName()
                  + "); the request was not retried",
              c));
    }
  }

  /** The error of a response whose body broke off. */
  RelayException broken(Throwable cause) {
    return new RelayException(
        "kube-apiserver at "
            + authority
            + " broke off the response to "
            + method
            + " "
            + path
            + " ("
            + cause.getClass().getSimpleName()
            + ")",
        cause);
  }

  /** The error a subscriber sees after the response was closed. */
  RelayException closed() {
    return new RelayException("the response to " + method + " " + path + " was closed");
  }
}
