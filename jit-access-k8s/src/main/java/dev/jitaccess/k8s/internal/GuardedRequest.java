package dev.jitaccess.k8s.internal;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A request that passed {@link RequestGuard}: safe to send as it is.
 *
 * @param method the HTTP method, upper case
 * @param pathAndQuery the request target, byte-for-byte as the user sent it
 * @param headers the headers to send, in order, without credentials and hop-by-hop headers
 * @param upgrade the protocol asked for ({@code SPDY/3.1} or {@code websocket}), or null for a plain request
 */
public record GuardedRequest(
    String method,
    String pathAndQuery,
    List<Map.Entry<String, String>> headers,
    @Nullable String upgrade) {

  /** Copies the header list. */
  public GuardedRequest {
    headers = List.copyOf(headers);
  }

  /** The path without the query. */
  String path() {
    int q = pathAndQuery.indexOf('?');
    return q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
  }

  /** The query without {@code ?}, or null when there is none. */
  @Nullable String query() {
    int q = pathAndQuery.indexOf('?');
    return q < 0 ? null : pathAndQuery.substring(q + 1);
  }
}
