package dev.jitaccess.k8s;

import io.kubernetes.client.openapi.ApiClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Shared setup for the forwarder tests. */
final class Fixtures {
  /** The just-in-time ServiceAccount token the forwarder is asked to use. */
  static final String SA_TOKEN = "sa-token.eyJhbGciOiJSUzI1NiJ9";
  /** The agent's own token, which must never reach kube-apiserver on a user's behalf. */
  static final String AGENT_TOKEN = "agent-own-token";

  private Fixtures() {}

  /**
   * An ApiClient like the in-cluster one: its HTTP client carries an interceptor that sets the agent's
   * own Authorization header, as client-java's token-file authentication does.
   */
  static ApiClient inClusterLikeApiClient(String baseUrl) {
    ApiClient apiClient = new ApiClient().setBasePath(baseUrl);
    apiClient.setHttpClient(
        apiClient
            .getHttpClient()
            .newBuilder()
            .addInterceptor(
                chain ->
                    chain.proceed(
                        chain.request().newBuilder().header("Authorization", "Bearer " + AGENT_TOKEN).build()))
            .build());
    return apiClient;
  }

  static KubernetesForwarder forwarder(String baseUrl) {
    return KubernetesForwarder.builder().apiClient(inClusterLikeApiClient(baseUrl)).build();
  }

  /** Headers from alternating names and values. */
  static Map<String, List<String>> headers(String... namesAndValues) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.put(namesAndValues[i], List.of(namesAndValues[i + 1]));
    }
    return headers;
  }
}
