package dev.jitaccess.api.spi;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.JitAccessException;

/**
 * Sends a request to kube-apiserver with a ServiceAccount's token. The agent uses it after verifying a grant
 * and provisioning the account; jit-access-k8s implements it.
 *
 * <p>Implementations are thread-safe, set {@code Authorization} themselves, refuse requests that carry
 * credentials, {@code Impersonate-*} headers or unsafe paths, never follow redirects and never retry.
 * Calls block until the response headers arrive.
 *
 * @since 0.1.0
 */
public interface ClusterForwarder {

  /**
   * Forwards one request.
   *
   * @param request the request; never null
   * @param bearerToken the ServiceAccount token to send
   * @return the response, which the caller must close
   * @throws IllegalArgumentException if the request carries a forbidden header or an unsafe path (nothing is
   *     sent)
   * @throws JitAccessException if kube-apiserver could not be reached
   */
  ForwardResponse forward(ForwardRequest request, String bearerToken);
}
