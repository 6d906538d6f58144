package dev.jitaccess.api;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP request for kube-apiserver, as the agent hands it to a
 * {@link dev.jitaccess.api.spi.ClusterForwarder}.
 *
 * <p>The path is forwarded byte for byte, query included. Header names are case-insensitive: they are stored
 * in lower case, with their values in order. The body, when present, is read once, as a stream. The record
 * is immutable except for the body stream, which belongs to the one forwarder that reads it.
 *
 * @param method the HTTP method, upper case
 * @param pathAndQuery the request target, starting with {@code /}
 * @param headers the request headers (lower-case names), without credentials
 * @param body the request body, or {@code null} when there is none
 * @param contentLength the body length, or -1 when unknown (streamed)
 * @since 0.1.0
 */
public record ForwardRequest(
    String method,
    String pathAndQuery,
    Map<String, List<String>> headers,
    @Nullable InputStream body,
    long contentLength) {

  /**
   * Validates and copies the components.
   *
   * @throws NullPointerException if the method, path or headers are null
   * @throws IllegalArgumentException if the method is not a token, the path does not start with {@code /}, or
   *     the content length is below -1
   */
  public ForwardRequest {
    Objects.requireNonNull(method, "method");
    if (method.isEmpty() || !method.chars().allMatch(c -> c >= 'A' && c <= 'Z')) {
      throw new IllegalArgumentException("method must be upper-case letters but was '" + Checks.printable(method) + "'");
    }
    Objects.requireNonNull(pathAndQuery, "pathAndQuery");
    if (!pathAndQuery.startsWith("/")) {
      throw new IllegalArgumentException(
          "pathAndQuery must start with '/' but was '" + Checks.printable(pathAndQuery) + "'");
    }
    Map<String, List<String>> copy = new TreeMap<>();
    Objects.requireNonNull(headers, "headers")
        .forEach(
            (name, values) ->
                copy.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .addAll(List.copyOf(values)));
    copy.replaceAll((k, v) -> List.copyOf(v));
    headers = Map.copyOf(copy);
    if (contentLength < -1) {
      throw new IllegalArgumentException("contentLength must be -1 (unknown) or more but was " + contentLength);
    }
  }

  /**
   * A request without a body.
   *
   * @param method the HTTP method
   * @param pathAndQuery the request target
   * @param headers the headers
   * @return the request
   */
  public static ForwardRequest withoutBody(
      String method, String pathAndQuery, Map<String, List<String>> headers) {
    return new ForwardRequest(method, pathAndQuery, headers, null, 0);
  }

  /**
   * The values of a header.
   *
   * @param name the header name, any case
   * @return its values in order; empty when absent
   */
  public List<String> header(String name) {
    return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
  }
}
