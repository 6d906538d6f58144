package dev.jitaccess.k8s;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.spi.ClusterForwarder;

import dev.jitaccess.k8s.internal.ApiEndpoint;
import dev.jitaccess.k8s.internal.GuardedRequest;
import dev.jitaccess.k8s.internal.OkHttpForwarder;
import dev.jitaccess.k8s.internal.RequestGuard;
import dev.jitaccess.k8s.internal.UpgradeForwarder;
import io.kubernetes.client.openapi.ApiClient;
import java.util.Objects;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * Forwards user requests to kube-apiserver with a just-in-time ServiceAccount token, over the connection
 * settings of an {@link ApiClient}: its base path, TLS trust and client certificates, socket factories,
 * proxy and timeouts, and its connection pool (connections are reused; kube-apiserver multiplexes up to
 * 100 HTTP/2 streams per connection). There is no rate limiter on this path.
 *
 * <p>What is <em>not</em> taken from the {@code ApiClient}: its interceptors (client-java's token
 * authentications install one that would replace the user's token with the agent's own), authenticator,
 * cookies and cache. Redirects are never followed and requests are never retried, not even after a
 * {@code 503} with {@code Retry-After: 0}. The {@code ApiClient}'s read timeout bounds the time between two
 * reads of a body (an idle watch without bookmarks needs a generous one, or none); there is no timeout on
 * a whole call, so long watches and {@code logs -f} work.
 *
 * <p>Upgrade requests (exec, attach, port-forward over SPDY/3.1 or WebSocket) use a dedicated HTTP/1.1
 * socket with the same TLS settings; HTTP proxies and certificate pins of the {@code ApiClient} do not
 * apply to them.
 *
 * <p>Instances are immutable and thread-safe. The {@code ApiClient}'s HTTP client is read once, by {@link
 * Builder#build()}; later changes to the {@code ApiClient} are not seen.
 *
 * @since 0.1.0
 */
public final class KubernetesForwarder implements ClusterForwarder {
  private final OkHttpForwarder plain;
  private final UpgradeForwarder upgrades;

  private KubernetesForwarder(OkHttpClient httpClient, ApiEndpoint endpoint) {
    this.plain = new OkHttpForwarder(httpClient, endpoint);
    this.upgrades = new UpgradeForwarder(httpClient, endpoint);
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
   * <p>Plain requests go through OkHttp; the response body streams from the network. Upgrade requests go
   * through their own socket; an answer other than a matching {@code 101} is read whole (at most 1 MiB),
   * the socket is closed, and it is returned as an ordinary response without upgraded connection.
   */
  @Override
  public ForwardResponse forward(ForwardRequest request, String bearerToken) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(bearerToken, "bearerToken");
    GuardedRequest guarded = RequestGuard.check(request, bearerToken);
    return guarded.upgrade() == null
        ? plain.forward(guarded, request, bearerToken)
        : upgrades.forward(guarded, bearerToken);
  }

  /**
   * Builds a {@link KubernetesForwarder}. Not thread-safe; {@link #build()} may be called more than once.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private @Nullable ApiClient apiClient;

    private Builder() {}

    /**
     * The client whose connection settings are used: base path, TLS, timeouts, connection pool. Its own
     * credentials are never used. Required.
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
     * Builds the forwarder.
     *
     * @return a new, thread-safe forwarder
     * @throws IllegalStateException if no {@link #apiClient(ApiClient)} was set
     */
    public KubernetesForwarder build() {
      if (apiClient == null) {
        throw new IllegalStateException(
            "apiClient must be set: pass the ApiClient that reaches this cluster's kube-apiserver");
      }
      return new KubernetesForwarder(apiClient.getHttpClient(), ApiEndpoint.parse(apiClient.getBasePath()));
    }
  }
}
