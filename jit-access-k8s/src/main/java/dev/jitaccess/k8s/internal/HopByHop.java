package dev.jitaccess.k8s.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Hop-by-hop header names (RFC 9110 §7.6.1) and the filtering of response headers. */
final class HopByHop {
  /** Headers that describe one connection and never travel further, in lower case. */
  static final Set<String> NAMES =
      Set.of(
          "connection",
          "keep-alive",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "proxy-connection",
          "proxy-authenticate",
          "proxy-authorization",
          "http2-settings");

  private HopByHop() {}

  static boolean isHopByHop(String lowerCaseName) {
    return NAMES.contains(lowerCaseName) || lowerCaseName.startsWith("proxy-");
  }

  /** The comma-separated tokens of all {@code Connection} headers, in lower case. */
  static Set<String> connectionTokens(List<String> connectionValues) {
    Set<String> tokens = new TreeSet<>();
    for (String value : connectionValues) {
      for (String token : value.split(",", -1)) {
        String t = token.strip().toLowerCase(Locale.ROOT);
        if (!t.isEmpty()) {
          tokens.add(t);
        }
      }
    }
    return tokens;
  }

  /**
   * Response headers minus hop-by-hop ones and those the response's {@code Connection} names.
   *
   * @param keepUpgrade whether to keep {@code Upgrade} (for a {@code 101})
   * @return an unmodifiable map with case-insensitive keys
   */
  static Map<String, List<String>> filterResponse(
      List<Map.Entry<String, String>> headers, boolean keepUpgrade) {
    List<String> connection = new ArrayList<>();
    for (Map.Entry<String, String> h : headers) {
      if (h.getKey().equalsIgnoreCase("connection")) {
        connection.add(h.getValue());
      }
    }
    Set<String> named = connectionTokens(connection);
    TreeMap<String, List<String>> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (Map.Entry<String, String> h : headers) {
      String lower = h.getKey().toLowerCase(Locale.ROOT);
      boolean keep = keepUpgrade && lower.equals("upgrade");
      if (!keep && (isHopByHop(lower) || named.contains(lower))) {
        continue;
      }
      out.computeIfAbsent(h.getKey(), n -> new ArrayList<>()).add(h.getValue());
    }
    out.replaceAll((name, values) -> List.copyOf(values));
    return Collections.unmodifiableMap(out);
  }
}
