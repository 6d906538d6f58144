package dev.jitaccess.relay.internal;

import dev.jitaccess.api.AccessRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Checks a user's request target and splits it into the cluster and the Kubernetes path.
 *
 * <p>The relay never decodes or normalises a path: it refuses anything a server further along might read
 * differently ({@code .}/{@code ..} segments, encoded dots, slashes and backslashes, double encoding, empty
 * segments, matrix parameters, control and non-ASCII characters), so the string that is authorized, audited and
 * forwarded is byte-for-byte the string the user sent, minus the {@code /clusters/<id>} prefix.
 */
public final class PathPolicy {

  /** The prefix of every routed path. */
  public static final String PREFIX = "/clusters/";

  /**
   * A routed request target.
   *
   * @param cluster the cluster id (validated)
   * @param path the Kubernetes path, starting with {@code /}
   * @param target the path plus the query exactly as sent ({@code :path} on the tunnel)
   */
  public record Route(String cluster, String path, String target) {}

  private PathPolicy() {}

  /**
   * Checks and routes a request target.
   *
   * @param uri the request target as received
   * @return the route
   * @throws HttpStatusException 400 for a refused target, 404 for a target outside {@code /clusters/}
   */
  public static Route route(String uri) throws HttpStatusException {
    if (uri.isEmpty() || uri.charAt(0) != '/') {
      throw bad("the request target must be an absolute path");
    }
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        throw bad("the request target must not contain spaces, control or non-ASCII characters");
      }
      if (c == '#') {
        throw bad("the request target must not contain a fragment");
      }
    }
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    String query = q < 0 ? "" : uri.substring(q);
    checkPath(path);
    if (!path.startsWith(PREFIX)) {
      throw new HttpStatusException(
          HttpResponseStatus.NOT_FOUND, "the relay serves only " + PREFIX + "{cluster}/...");
    }
    int end = path.indexOf('/', PREFIX.length());
    String cluster = end < 0 ? path.substring(PREFIX.length()) : path.substring(PREFIX.length(), end);
    try {
      AccessRequest.checkCluster(cluster);
    } catch (IllegalArgumentException e) {
      throw bad(e.getMessage());
    }
    String rest = end < 0 ? "/" : path.substring(end);
    return new Route(cluster, rest, rest + query);
  }

  private static void checkPath(String path) throws HttpStatusException {
    if (path.indexOf('\\') >= 0 || path.indexOf(';') >= 0) {
      throw bad("the path must not contain '\\' or ';'");
    }
    if (path.contains("//")) {
      throw bad("the path must not contain empty segments ('//')");
    }
    for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
      int value = i + 2 < path.length() ? hex(path.charAt(i + 1), path.charAt(i + 2)) : -1;
      if (value < 0) {
        throw bad("the path contains a malformed percent-encoding");
      }
      if (value == '.' || value == '/' || value == '\\' || value == '%' || value < 0x20 || value == 0x7f) {
        throw bad("the path must not contain encoded dots, slashes, backslashes, percent signs or controls");
      }
    }
    for (String segment : path.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        throw bad("the path must not contain '.' or '..' segments");
      }
    }
  }

  private static int hex(char hi, char lo) {
    int h = Character.digit(hi, 16);
    int l = Character.digit(lo, 16);
    return h < 0 || l < 0 ? -1 : h * 16 + l;
  }

  private static HttpStatusException bad(String message) {
    return new HttpStatusException(HttpResponseStatus.BAD_REQUEST, message);
  }
}
