package dev.jitaccess.api;

import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The answer of kube-apiserver to a {@linkplain ClusterForwarder#forward forwarded request}: status,
 * headers, and a body that is read from the network as the caller reads it (a watch or {@code logs -f} is
 * never buffered whole).
 *
 * <p>The caller must close the response, which releases the connection (and closes an upgraded
 * connection). Not thread-safe, except that {@link #close()} may be called from any thread to abort a
 * stream that another thread is reading.
 *
 * @since 0.1.0
 */
public interface ForwardResponse extends AutoCloseable {

  /**
   * The HTTP status code.
   *
   * @return the status, {@code 101} for an upgraded connection
   */
  int status();

  /**
   * The response headers, without hop-by-hop headers ({@code Connection}, {@code Keep-Alive},
   * {@code Transfer-Encoding}, {@code Proxy-*} and those named in {@code Connection}). A {@code 101}
   * response keeps its {@code Upgrade} header.
   *
   * @return an unmodifiable map with case-insensitive keys; each list holds one or more values in order
   */
  Map<String, List<String>> headers();

  /**
   * The response body, streamed from the network. Empty for an upgraded connection (use {@link
   * #upgraded()}) and for responses without a body.
   *
   * @return the body; the same stream on every call
   */
  InputStream body();

  /**
   * The raw byte pipe, present only after a {@code 101 Switching Protocols} whose {@code Upgrade} header
   * matched the protocol that was asked for.
   *
   * @return the upgraded connection, or empty for every other answer
   */
  Optional<UpgradedConnection> upgraded();

  /** Releases the body and the connection. Idempotent; never throws. */
  @Override
  void close();
}
