package dev.jitaccess.api;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP request to forward to kube-apiserver, as the user sent it.
 *
 * <p>The compact constructor checks that the request is well-formed HTTP (a token as method, an
 * origin-form target, header names that are tokens, header values without control characters) and copies
 * the headers into an unmodifiable map with case-insensitive keys. Whether the request is <em>allowed</em>
 * (no credentials, no impersonation, no dot segments) is decided by the {@link ClusterForwarder}.
 *
 * <p>Immutable apart from {@code body}, which is read once, by the forwarder.
 *
 * @param method the HTTP method, for example {@code GET}
 * @param pathAndQuery the request target in origin form, byte-for-byte as it will be sent, for example
 *     {@code /api/v1/namespaces/default/pods?watch=1}
 * @param headers the user's headers; names compare case-insensitively; each list holds one or more
 *     values in order
 * @param body the request body, or {@code null} for none
 * @param contentLength the body length in bytes, or {@code -1} when unknown (then it is sent chunked);
 *     must be {@code 0} or {@code -1} when {@code body} is null
 * @since 0.1.0
 */
public record ForwardRequest(
    String method,
    String pathAndQuery,
    Map<String, List<String>> headers,
    @Nullable InputStream body,
    long contentLength) {

  /** The longest request target accepted, in characters. */
  public static final int MAX_TARGET_LENGTH = 8192;

  /**
   * Checks and copies the request.
   *
   * @throws NullPointerException if {@code method}, {@code pathAndQuery}, {@code headers} or a header
   *     name, value list or value is null
   * @throws IllegalArgumentException if the request is not well-formed; the message names the problem but
   *     never repeats a header value
   */
  public ForwardRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(pathAndQuery, "pathAndQuery");
    Objects.requireNonNull(headers, "headers");
    if (!isToken(method)) {
      throw new IllegalArgumentException("method must be an HTTP token but was '" + printable(method) + "'");
    }
    if (pathAndQuery.isEmpty()
        || pathAndQuery.charAt(0) != '/'
        || pathAndQuery.length() > MAX_TARGET_LENGTH) {
      throw new IllegalArgumentException(
          "pathAndQuery must start with '/' and be at most "
              + MAX_TARGET_LENGTH
              + " characters but was '"
              + printable(pathAndQuery)
              + "'");
    }
    if (contentLength < -1) {
      throw new IllegalArgumentException("contentLength must be -1 (unknown) or more but was " + contentLength);
    }
    if (body == null && contentLength > 0) {
      throw new IllegalArgumentException(
          "contentLength must be 0 or -1 without a body but was " + contentLength);
    }
    headers = copyHeaders(headers);
  }

  /**
   * A request without body.
   *
   * @param method the HTTP method
   * @param pathAndQuery the request target in origin form
   * @param headers the user's headers
   * @return the request
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the request is not well-formed
   */
  public static ForwardRequest of(String method, String pathAndQuery, Map<String, List<String>> headers) {
    return new ForwardRequest(method, pathAndQuery, headers, null, -1);
  }

  /**
   * The first value of a header.
   *
   * @param name the header name, in any letter case
   * @return the first value, or {@code null} when the header is absent
   */
  public @Nullable String header(String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static Map<String, List<String>> copyHeaders(Map<String, List<String>> headers) {
    TreeMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (Map.Entry<String, List<String>> entry : headers.entrySet()) {
      String name = Objects.requireNonNull(entry.getKey(), "header name");
      List<String> values = Objects.requireNonNull(entry.getValue(), () -> "values of header " + name);
      if (!isToken(name)) {
        throw new IllegalArgumentException("header name must be an HTTP token but was '" + printable(name) + "'");
      }
      for (String value : values) {
        Objects.requireNonNull(value, () -> "value of header " + name);
        if (!isFieldValue(value)) {
          throw new IllegalArgumentException(
              "header " + name + " has a value with a control or non-ASCII character");
        }
      }
      copy.computeIfAbsent(name, n -> new ArrayList<>()).addAll(values);
    }
    copy.replaceAll((name, values) -> List.copyOf(values));
    return Collections.unmodifiableMap(copy);
  }

  private static boolean isToken(String value) {
    if (value.isEmpty()) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** Visible ASCII, space and tab only: no CR, LF, NUL or obs-text, so no header can be injected. */
  private static boolean isFieldValue(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c != '\t' && (c < 0x20 || c > 0x7e)) {
        return false;
      }
    }
    return true;
  }

  private static String printable(String value) {
    StringBuilder out = new StringBuilder();
    int limit = Math.min(value.length(), 80);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      out.append(c < 0x20 || c > 0x7e ? '?' : c);
    }
    return value.length() > limit ? out.append("...").toString() : out.toString();
  }
}
