package dev.jitaccess.k8s.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Where kube-apiserver listens, parsed from an {@code ApiClient} base path such as {@code
 * https://10.0.0.1:443} or {@code https://gateway/k8s/clusters/c1}.
 *
 * @param https whether to use TLS
 * @param host the host name or IP literal (without brackets)
 * @param port the port
 * @param prefix the path prefix, empty or starting with {@code /} and not ending with one
 */
public record ApiEndpoint(boolean https, String host, int port, String prefix) {

  /**
   * Parses a base path.
   *
   * @throws IllegalArgumentException if it is not an absolute http or https URL without query
   */
  public static ApiEndpoint parse(String basePath) {
    URI uri;
    try {
      uri = new URI(basePath);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("apiClient base path is not a URL: " + e.getMessage(), e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "apiClient base path must be an http or https URL with a host but was '" + basePath + "'");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException(
          "apiClient base path must not have user info, a query or a fragment");
    }
    boolean https = scheme.equals("https");
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
    String prefix = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (prefix.endsWith("/")) {
      prefix = prefix.substring(0, prefix.length() - 1);
    }
    return new ApiEndpoint(https, host, port, prefix);
  }

  /** The value of the {@code Host} header. */
  String hostHeader() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return port == (https ? 443 : 80) ? h : h + ":" + port;
  }

  /** The absolute URL of a request target. */
  String url(String pathAndQuery) {
    return (https ? "https://" : "http://") + hostHeader() + prefix + pathAndQuery;
  }
}
