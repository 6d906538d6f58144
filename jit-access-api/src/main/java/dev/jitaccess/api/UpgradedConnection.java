package dev.jitaccess.api;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * A connection to kube-apiserver that switched protocols (SPDY or WebSocket for exec, attach and
 * port-forward) and is now a raw, bidirectional byte pipe. Bytes are passed through as they are; framing
 * is the business of the two ends.
 *
 * <p>No read timeout applies once upgraded: the caller owns idle timeouts and must close the connection
 * when the user goes away or the grant is revoked. The two streams may be used from two different threads
 * (one reading, one writing); {@link #close()} may be called from any thread.
 *
 * @since 0.1.0
 */
public interface UpgradedConnection extends AutoCloseable {

  /**
   * The protocol the server switched to, as it named it in its {@code Upgrade} header.
   *
   * @return for example {@code SPDY/3.1} or {@code websocket}
   */
  String protocol();

  /**
   * Bytes from kube-apiserver.
   *
   * @return the stream; the same one on every call
   */
  InputStream fromServer();

  /**
   * Bytes to kube-apiserver. Flush after each message.
   *
   * @return the stream; the same one on every call
   */
  OutputStream toServer();

  /** Closes both directions and the socket. Idempotent; never throws. */
  @Override
  void close();
}
