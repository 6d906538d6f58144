package dev.jitaccess.api.spi;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;

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
}
