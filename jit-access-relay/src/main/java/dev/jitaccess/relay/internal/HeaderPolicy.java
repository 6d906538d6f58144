package dev.jitaccess.relay.internal;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Header hygiene between the user and the tunnel.
 *
 * <p>The client's own hop-by-hop list ({@code Connection}) is applied while the client's headers are filtered,
 * before the relay adds its headers, so nothing the relay adds (the grant, the request id,
 * {@code X-Forwarded-For}) can be removed by a client.
 */
public final class HeaderPolicy {

  /** The largest bearer token accepted, in characters, checked before any parsing. */
  public static final int MAX_TOKEN_LENGTH = 16 * 1024;

  /** The header that asks the agent to perform a protocol upgrade. */
  public static final String UPGRADE_HEADER = "jit-upgrade";

  private static final Set<String> DROPPED =
      Set.of(
          "authorization",
          "proxy-authorization",
          "cookie",
          "host",
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "expect",
          "http2-settings",
          "forwarded",
          "x-real-ip");

  private static final List<String> DROPPED_PREFIXES =
      List.of("x-remote-", "x-forwarded-", "x-http2-", "impersonate-", "jit-", ":");

  private static final Set<String> RESPONSE_DROPPED =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "set-cookie2");

  private static final String WEBSOCKET_BEARER = "base64url.bearer.authorization.k8s.io.";

  private HeaderPolicy() {}

  /**
   * Finds an impersonation header.
   *
   * @param headers the request headers
   * @return the first {@code Impersonate-*} header name in any letter case, or {@code null}
   */
  public static @Nullable String impersonationHeader(HttpHeaders headers) {
    for (Map.Entry<String, String> entry : headers) {
      if (entry.getKey().toLowerCase(Locale.ROOT).startsWith("impersonate-")) {
        return entry.getKey();
      }
    }
    return null;
  }

  /**
   * Whether a {@code Sec-WebSocket-Protocol} entry carries a bearer token ({@code
   * base64url.bearer.authorization.k8s.io.<token>}, which kube-apiserver accepts from browsers). The relay
   * authenticates the {@code Authorization} header only, and a credential must not travel on to the agent.
   *
   * @param headers the request headers
   * @return true when any entry of any {@code Sec-WebSocket-Protocol} header is such a token
   */
  public static boolean hasWebSocketBearer(HttpHeaders headers) {
    for (String value : headers.getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)) {
      for (String protocol : value.split(",", -1)) {
        String p = protocol.strip();
        if (p.regionMatches(true, 0, WEBSOCKET_BEARER, 0, WEBSOCKET_BEARER.length())) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Extracts the bearer token.
   *
   * @param headers the request headers
   * @return the token without the {@code Bearer } scheme
   * @throws HttpStatusException 401 when missing or not a bearer token, 400 when repeated, 431 when too long
   */
  public static String bearerToken(HttpHeaders headers) throws HttpStatusException {
    List<String> values = headers.getAll(HttpHeaderNames.AUTHORIZATION);
    if (values.isEmpty()) {
      throw new HttpStatusException(HttpResponseStatus.UNAUTHORIZED, "Unauthorized: a bearer token is required");
    }
    if (values.size() > 1) {
      throw new HttpStatusException(HttpResponseStatus.BAD_REQUEST, "only one Authorization header is allowed");
    }
    String value = values.get(0);
    if (value.length() > MAX_TOKEN_LENGTH + 7) {
      throw new HttpStatusException(
          HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
          "the bearer token is longer than " + MAX_TOKEN_LENGTH + " characters");
    }
    if (value.length() < 8 || !value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new HttpStatusException(HttpResponseStatus.UNAUTHORIZED, "Unauthorized: a bearer token is required");
    }
    String token = value.substring(7).strip();
    if (token.isEmpty()) {
      throw new HttpStatusException(HttpResponseStatus.UNAUTHORIZED, "Unauthorized: a bearer token is required");
    }
    return token;
  }

  /**
   * Checks the request's framing headers beyond what Netty's decoder enforces.
   *
   * @param headers the request headers
   * @throws HttpStatusException 400 for a {@code Transfer-Encoding} other than exactly {@code chunked}
   */
  public static void checkFraming(HttpHeaders headers) throws HttpStatusException {
    List<String> te = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (!te.isEmpty() && (te.size() > 1 || !te.get(0).strip().equalsIgnoreCase("chunked"))) {
      throw new HttpStatusException(
          HttpResponseStatus.BAD_REQUEST, "Transfer-Encoding must be exactly 'chunked'");
    }
  }

  /**
   * Builds the HTTP/2 headers sent through the tunnel.
   *
   * @param method the request method
   * @param headers the user's headers
   * @param route the checked route
   * @param relayHeaders the relay's own headers (grant, request id, forwarded-for), added last
   * @return the headers; every client header the relay does not forward is gone
   */
  public static Http2Headers forwardHeaders(
      HttpMethod method, HttpHeaders headers, PathPolicy.Route route, Map<String, String> relayHeaders) {
    Set<String> named = connectionNamed(headers);
    Http2Headers out = new DefaultHttp2Headers();
    out.method(method.name());
    out.path(route.target());
    out.scheme("https");
    out.authority(route.cluster());
    for (Map.Entry<String, String> entry : headers) {
      String name = entry.getKey().toLowerCase(Locale.ROOT);
      if (!isDropped(name, named)) {
        out.add(name, entry.getValue());
      }
    }
    relayHeaders.forEach(out::set);
    return out;
  }

  /**
   * Whether a response header from the agent is passed to the user.
   *
   * @param lowerCaseName the header name in lower case
   * @return false for pseudo and hop-by-hop headers
   */
  public static boolean isForwardedResponseHeader(String lowerCaseName) {
    return !lowerCaseName.startsWith(":") && !RESPONSE_DROPPED.contains(lowerCaseName);
  }

  private static boolean isDropped(String name, Set<String> connectionNamed) {
    if (DROPPED.contains(name) || connectionNamed.contains(name)) {
      return true;
    }
    for (String prefix : DROPPED_PREFIXES) {
      if (name.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private static Set<String> connectionNamed(HttpHeaders headers) {
    Set<String> named = new HashSet<>();
    for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : value.split(",")) {
        String name = token.strip().toLowerCase(Locale.ROOT);
        if (!name.isEmpty()) {
          named.add(name);
        }
      }
    }
    return named;
  }
}
