package dev.jitaccess.api;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Flow;

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
   * The response body as a non-blocking stream with back-pressure, for forwarders that can deliver it
   * without holding a thread per response (an idle watch may stay open for hours).
   *
   * <p>Bytes are read from the network only as the subscriber {@linkplain Flow.Subscription#request
   * requests} them: a slow subscriber makes the forwarder stop reading, kube-apiserver is then held back by
   * HTTP/2 flow control, and the forwarder holds at most its stream window for this response. Each buffer
   * passed to {@code onNext} belongs to the subscriber. {@code onComplete} follows the end of the body;
   * {@code onError} (with a {@link RelayException}) follows a broken connection, a reset stream or {@link
   * #close()}. Cancelling the subscription closes the response. Signals arrive on the forwarder's threads,
   * never concurrently; the subscriber must not block in them.
   *
   * <p>Use either this or {@link #body()}, not both, and subscribe at most once: a second subscriber
   * receives {@code onError} with an {@link IllegalStateException}.
   *
   * @return the publisher, or empty when this response offers only the blocking {@link #body()} (the
   *     default) and for an upgraded connection
   * @since 0.1.0
   */
  default Optional<Flow.Publisher<ByteBuffer>> bodyPublisher() {
    return Optional.empty();
  }

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
