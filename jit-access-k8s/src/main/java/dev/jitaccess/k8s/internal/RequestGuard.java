package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.ForwardRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether a request may go to kube-apiserver and what exactly is sent. Fails closed: anything it
 * does not recognise as harmless is refused with an {@link IllegalArgumentException} whose message names
 * the header or shows the path, never a header value or the token.
 *
 * <p>Refused: {@code Authorization}, {@code Proxy-Authorization}, {@code Impersonate-*} and {@code
 * X-Remote-*} (identity asserted by headers), a {@code Sec-WebSocket-Protocol} carrying a {@code
 * base64url.bearer.authorization.k8s.io.} token; a {@code Connection} header naming anything but {@code
 * close}, {@code keep-alive}, {@code upgrade}, {@code te}, {@code trailer} or {@code http2-settings} (a
 * client has no business asking a proxy to drop an end-to-end header: that is how credentials get
 * stripped after the proxy added them, Rancher CVE-2021-31999); dot segments, encoded dots, slashes,
 * backslashes and percent signs, empty segments, {@code ;} and {@code #}, control and non-ASCII
 * characters in the target; upgrades to anything but SPDY/3.1 and WebSocket. Dropped: hop-by-hop
 * headers, {@code Host}, {@code Content-Length} (the record's length is the truth), {@code Expect} and
 * {@code Cookie}.
 */
public final class RequestGuard {
  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
  private static final Set<String> CONNECTION_TOKENS =
      Set.of("close", "keep-alive", "upgrade", "te", "trailer", "http2-settings");
  private static final Set<String> REFUSED = Set.of("authorization", "proxy-authorization");
  private static final List<String> REFUSED_PREFIXES = List.of("impersonate-", "x-remote-");
  /** kube-apiserver authenticates a bearer token in this WebSocket subprotocol, meant for browsers. */
  private static final String WEBSOCKET_BEARER = "base64url.bearer.authorization.k8s.io.";
  private static final Set<String> DROPPED = Set.of("host", "content-length", "expect", "cookie");
  private static final Set<String> UPGRADES = Set.of("spdy/3.1", "websocket");
  /** The characters of an RFC 6750 b64token before its trailing {@code =} padding. */
  private static final String B64TOKEN_PUNCTUATION = "-._~+/";
  private static final int MAX_TOKEN_LENGTH = 16 * 1024;
  /** unreserved and sub-delims except ';', plus ':' '@' '/' '%' (checked separately). */
  private static final String PATH_PUNCTUATION = "-._~!$&'()*+,=:@/%";

  private RequestGuard() {}

  /**
   * Checks a request.
   *
   * @throws IllegalArgumentException if it is refused
   */
  public static GuardedRequest check(ForwardRequest request, String bearerToken) {
    checkToken(bearerToken);
    String method = request.method();
    if (!METHODS.contains(method)) {
      throw new IllegalArgumentException(
          "method " + method + " is not forwarded; use one of " + new TreeSet<>(METHODS));
    }
    checkTarget(request.pathAndQuery());
    Map<String, List<String>> headers = request.headers();
    Set<String> connection = HopByHop.connectionTokens(headers.getOrDefault("Connection", List.of()));
    for (String token : connection) {
      if (!CONNECTION_TOKENS.contains(token)) {
        throw new IllegalArgumentException(
            "header Connection names '"
                + token
                + "'; only close, keep-alive, upgrade, te, trailer and http2-settings are accepted");
      }
    }
    String upgrade = connection.contains("upgrade") ? upgradeOf(headers) : null;
    if (upgrade != null) {
      if (!method.equals("GET") && !method.equals("POST")) {
        throw new IllegalArgumentException("an upgrade request must be GET or POST but was " + method);
      }
      if (request.body() != null && request.contentLength() != 0) {
        throw new IllegalArgumentException("an upgrade request must not have a body");
      }
    } else if (request.body() != null && (method.equals("GET") || method.equals("HEAD"))) {
      throw new IllegalArgumentException("a " + method + " request must not have a body");
    }
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (Map.Entry<String, List<String>> header : headers.entrySet()) {
      String name = header.getKey();
      String lower = name.toLowerCase(Locale.ROOT);
      if (REFUSED.contains(lower) || REFUSED_PREFIXES.stream().anyMatch(lower::startsWith)) {
        throw new IllegalArgumentException(
            "header " + name + " is refused: identity and credentials are set by jit-access only");
      }
      if (HopByHop.isHopByHop(lower) || DROPPED.contains(lower)) {
        continue;
      }
      if (lower.equals("sec-websocket-protocol")
          && header.getValue().stream().anyMatch(v -> v.toLowerCase(Locale.ROOT).contains(WEBSOCKET_BEARER))) {
        throw new IllegalArgumentException(
            "header " + name + " carries a bearer token; identity and credentials are set by jit-access only");
      }
      for (String value : header.getValue()) {
        out.add(Map.entry(name, value));
      }
    }
    return new GuardedRequest(method, request.pathAndQuery(), out, upgrade);
  }

  private static @Nullable String upgradeOf(Map<String, List<String>> headers) {
    List<String> values = headers.get("Upgrade");
    if (values == null || values.isEmpty()) {
      return null;
    }
    if (values.size() != 1 || values.get(0).contains(",")) {
      throw new IllegalArgumentException("header Upgrade must name exactly one protocol");
    }
    String protocol = values.get(0).strip();
    if (!UPGRADES.contains(protocol.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException(
          "upgrade to '" + protocol + "' is not forwarded; only SPDY/3.1 and websocket are");
    }
    return protocol;
  }

  private static void checkToken(String bearerToken) {
    if (bearerToken.length() > MAX_TOKEN_LENGTH || !isB64Token(bearerToken)) {
      throw new IllegalArgumentException(
          "bearerToken must be 1 to " + MAX_TOKEN_LENGTH + " characters of an RFC 6750 b64token");
    }
  }

  /**
   * Whether the text is an RFC 6750 b64token, {@code 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
   * *"="}. A loop rather than a regular expression: a ServiceAccount token is about a kilobyte and is checked on
   * every request.
   */
  static boolean isB64Token(String token) {
    int end = token.length();
    while (end > 0 && token.charAt(end - 1) == '=') {
      end--;
    }
    if (end == 0) {
      return false;
    }
    for (int i = 0; i < end; i++) {
      char c = token.charAt(i);
      if (!isAlnum(c) && B64TOKEN_PUNCTUATION.indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }

  /** The path is what was authorized: refuse everything a server might normalise into another path. */
  static void checkTarget(String target) {
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    if (path.isEmpty() || path.charAt(0) != '/') {
      throw refused(target, "must start with '/'");
    }
    if (path.contains("//")) {
      throw refused(target, "must not contain an empty segment ('//')");
    }
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (!isAlnum(c) && PATH_PUNCTUATION.indexOf(c) < 0) {
        throw refused(target, "must not contain '" + (c < 0x20 || c > 0x7e ? "\\u" + (int) c : c) + "'");
      }
      if (c == '%') {
        int decoded = percent(target, path, i);
        if (decoded == '.' || decoded == '/' || decoded == '\\' || decoded == '%' || decoded == ';'
            || decoded < 0x20 || decoded == 0x7f) {
          throw refused(target, "must not contain an encoded '.', '/', '\\', '%', ';' or control character");
        }
      }
    }
    for (String segment : path.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        throw refused(target, "must not contain '.' or '..' segments");
      }
    }
    if (q >= 0) {
      String query = target.substring(q + 1);
      for (int i = 0; i < query.length(); i++) {
        char c = query.charAt(i);
        // ';' is refused too: Go's net/http drops query parameters around it, so the server would see
        // another query than the one that was authorized.
        if (c == ';' || (!isAlnum(c) && PATH_PUNCTUATION.indexOf(c) < 0 && c != '?')) {
          throw refused(target, "must not contain '" + (c < 0x20 || c > 0x7e ? "\\u" + (int) c : c) + "' in the query");
        }
        if (c == '%') {
          percent(target, query, i);
        }
      }
    }
  }

  private static int percent(String target, String part, int at) {
    if (at + 2 >= part.length()) {
      throw refused(target, "has a truncated percent escape");
    }
    int hi = Character.digit(part.charAt(at + 1), 16);
    int lo = Character.digit(part.charAt(at + 2), 16);
    if (hi < 0 || lo < 0) {
      throw refused(target, "has an invalid percent escape");
    }
    return hi * 16 + lo;
  }

  private static boolean isAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static IllegalArgumentException refused(String target, String why) {
    StringBuilder shown = new StringBuilder();
    for (int i = 0; i < Math.min(target.length(), 120); i++) {
      char c = target.charAt(i);
      shown.append(c < 0x20 || c > 0x7e ? '?' : c);
    }
    return new IllegalArgumentException("path '" + shown + "' is refused: it " + why);
  }
}
