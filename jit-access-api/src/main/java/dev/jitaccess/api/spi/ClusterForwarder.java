package dev.jitaccess.api.spi;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import java.util.concurrent.CompletableFuture;

/**
 * Sends one HTTP request to a cluster's kube-apiserver on behalf of a user, with a credential chosen by the
 * caller (the user's just-in-time ServiceAccount token), and hands back the answer as a stream.
 *
 * <p>This interface uses JDK types only, so that the relay agent can call it without depending on this
 * module; jit-access-k8s implements it.
 *
 * <p>Implementations are thread-safe: one instance serves any number of concurrent requests, each on its
 * own calling thread. {@link #forward} blocks until the response head has arrived (the body is then read
 * by the caller, incrementally).
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface ClusterForwarder {

  /**
   * Forwards one request to kube-apiserver, authenticated with {@code bearerToken}.
   *
   * <p>The request is checked before anything is sent: credential and impersonation headers are refused,
   * hop-by-hop headers are dropped, hostile paths are refused. Redirects are returned, never followed; the
   * request is never retried. An upgrade request (exec, attach, port-forward) yields an {@linkplain
   * ForwardResponse#upgraded() upgraded connection} only when the server switched to the protocol that
   * was asked for; any other answer comes back as an ordinary response.
   *
   * @param request the request to send; its body, if any, is read and consumed by this call
   * @param bearerToken the token to authenticate with; never logged, never part of an exception message
   * @return the response, which the caller must {@linkplain ForwardResponse#close() close}
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the request is refused (a forbidden header, a hostile path, an
   *     unsupported method, a malformed token); nothing was sent. The message names the offending header
   *     or path, never a header value or the token.
   * @throws RelayException if kube-apiserver could not be reached, broke the connection, or answered an
   *     upgrade with something that is not HTTP or switched to a protocol that was not asked for
   */
  ForwardResponse forward(ForwardRequest request, String bearerToken);

  /**
   * Forwards one request without waiting for the answer on the calling thread, when the implementation
   * can: the returned future completes, on one of the forwarder's threads, once the response head has
   * arrived. Pair it with {@link ForwardResponse#bodyPublisher()} so that neither the head nor the body
   * holds a thread.
   *
   * <p>The checks of {@link #forward} apply and a refused request throws at once. A request with a body,
   * an upgrade request, or an implementation that cannot do better may be sent on the calling thread,
   * which then blocks until the head arrived, as {@link #forward} does; the default implementation does
   * exactly that. Callers that must not block (an event loop) therefore pass only body-less, non-upgrade
   * requests to forwarders documented as non-blocking.
   *
   * @param request the request to send; its body, if any, is read and consumed by this call
   * @param bearerToken the token to authenticate with; never logged, never part of an exception message
   * @return the response head, which the caller must {@linkplain ForwardResponse#close() close}; the
   *     future fails with a {@link RelayException} if kube-apiserver could not be reached or broke the
   *     connection before the head arrived
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the request is refused; nothing was sent
   * @since 0.1.0
   */
  default CompletableFuture<ForwardResponse> forwardAsync(ForwardRequest request, String bearerToken) {
    ForwardResponse response;
    try {
      response = forward(request, bearerToken);
    } catch (RelayException e) {
      return CompletableFuture.failedFuture(e);
    }
    return CompletableFuture.completedFuture(response);
  }

  /**
   * Whether {@link #forwardAsync} never blocks the calling thread for a request without body that is not an
   * upgrade, so that it may be called on an event loop. The default is {@code false}: the default {@code
   * forwardAsync} forwards on the calling thread.
   *
   * @return true if body-less, non-upgrade requests are forwarded without blocking the caller
   * @since 0.1.0
   */
  default boolean isNonBlocking() {
    return false;
  }
}
