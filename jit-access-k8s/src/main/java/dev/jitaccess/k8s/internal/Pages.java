package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.ProvisioningException;
import io.kubernetes.client.openapi.ApiException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Full pagination of a Kubernetes list call ({@code limit} + {@code continue}). */
final class Pages {

  /** One page of a list. */
  record Page<T>(List<T> items, @Nullable String continueToken) {}

  /** Fetches the page that starts at a continue token (null for the first page). */
  @FunctionalInterface
  interface Fetcher<T> {
    Page<T> fetch(@Nullable String continueToken) throws ApiException;
  }

  private Pages() {}

  /**
   * Fetches every page, each with retries.
   *
   * @throws ProvisioningException if a page cannot be fetched or the server repeats a continue token
   */
  static <T> List<T> all(KubeCalls calls, String what, Fetcher<T> fetcher) {
    List<T> items = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    String token = null;
    do {
      String current = token;
      Page<T> page = calls.run(what, () -> fetcher.fetch(current));
      items.addAll(page.items());
      token = page.continueToken();
      if (token != null && token.isEmpty()) {
        token = null;
      }
      if (token != null && !seen.add(token)) {
        throw new ProvisioningException(
            "Could not " + what + ": kube-apiserver repeated a continue token", 0, true, null);
      }
    } while (token != null);
    return items;
  }
}
