package dev.jitaccess.relay.internal;

import dev.jitaccess.api.ForwardRequest;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * A user request as it arrived over the tunnel, checked before anything else happens: exactly one signed
 * grant, no credential and no {@code Impersonate-*} header (defence in depth: the relay already refuses
 * them), a valid method and path. Immutable.
 *
 * @param method the HTTP method
 * @param path the path and query, forwarded byte for byte
 * @param headers the headers to forward (lower case, without pseudo-headers and {@code jit-*})
 * @param signedGrant the compact JWS from {@link TunnelProtocol#GRANT_HEADER}
 * @param upgrade the protocol from {@link TunnelHeaders#UPGRADE_HEADER}, or null
 * @param contentLength the body length, or -1 when unknown
 */
record AgentIncoming(
    String method,
    String path,
    Map<String, List<String>> headers,
    String signedGrant,
    @Nullable String upgrade,
    long contentLength) {

  /** A request the agent refuses before verifying anything. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    private final int code;
    private final String reason;

    Refused(int code, String reason, String message) {
      super(message, null, false, false);
      this.code = code;
      this.reason = reason;
    }

    int code() {
      return code;
    }

    String reason() {
      return reason;
    }
  }

  static AgentIncoming parse(Http2Headers h2, boolean endStream) throws Refused {
    Map<String, List<String>> headers = new TreeMap<>();
    List<String> grants = new ArrayList<>();
    String upgrade = null;
    for (Map.Entry<CharSequence, CharSequence> entry : h2) {
      String name = entry.getKey().toString().toLowerCase(Locale.ROOT);
      String value = entry.getValue().toString();
      if (name.startsWith(":")) {
        continue;
      }
      if (name.equals("authorization")
          || name.equals("proxy-authorization")
          || name.startsWith("impersonate-")) {
        throw new Refused(400, "BadRequest", "header " + name + " must not reach the agent");
      }
      if (name.equals(TunnelProtocol.GRANT_HEADER)) {
        grants.add(value);
      } else if (name.equals(TunnelHeaders.UPGRADE_HEADER)) {
        upgrade = value;
      } else if (!name.startsWith("jit-")) {
        headers.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
      }
    }
    if (grants.size() != 1 || grants.get(0).isBlank()) {
      throw new Refused(401, "Unauthorized", "the request carries no single signed grant");
    }
    long contentLength = endStream ? 0 : contentLength(headers.get("content-length"));
    if (upgrade != null) {
      headers.put("connection", List.of("Upgrade"));
      headers.put("upgrade", List.of(upgrade));
    }
    String method = String.valueOf(h2.method());
    String path = String.valueOf(h2.path());
    try {
      ForwardRequest.of(method, path, headers);
    } catch (IllegalArgumentException e) {
      throw new Refused(400, "BadRequest", e.getMessage());
    }
    return new AgentIncoming(method, path, headers, grants.get(0), upgrade, contentLength);
  }

  private static long contentLength(@Nullable List<String> values) throws Refused {
    if (values == null) {
      return -1;
    }
    if (values.size() != 1 || !values.get(0).matches("[0-9]{1,18}")) {
      throw new Refused(400, "BadRequest", "content-length must be one decimal number");
    }
    return Long.parseLong(values.get(0));
  }

  /**
   * The request for the forwarder.
   *
   * @param body the streamed body, or null for none
   * @return the request
   */
  ForwardRequest toForwardRequest(@Nullable InputStream body) {
    return new ForwardRequest(method, path, headers, body, body == null ? 0 : contentLength);
  }
}
