package dev.jitaccess.api;

import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * kube-apiserver's answer to a forwarded request: status and headers at once, the body as a stream read
 * incrementally from the network (a watch never ends until closed).
 *
 * <p>When the request asked for a protocol upgrade and the server answered {@code 101} with a matching
 * {@code Upgrade} header, {@link #upgraded()} holds the raw byte pipe; any other answer has none. Closing the
 * response closes the body and the connection behind it. Not thread-safe: one reader at a time.
 *
 * @since 0.1.0
 */
public interface ForwardResponse extends AutoCloseable {

  /**
   * The HTTP status code.
   *
   * @return the status
   */
  int status();

  /**
   * The response headers, lower-case names, hop-by-hop headers removed.
   *
   * @return the headers
   */
  Map<String, List<String>> headers();

  /**
   * The response body; empty for a {@code 101}.
   *
   * @return the body stream
   */
  InputStream body();

  /**
   * The byte pipe of an upgraded connection.
   *
   * @return the pipe, present only after a {@code 101} whose {@code Upgrade} matched the request
   */
  Optional<UpgradedConnection> upgraded();

  /** Closes the body and the connection; never throws. */
  @Override
  void close();
}
