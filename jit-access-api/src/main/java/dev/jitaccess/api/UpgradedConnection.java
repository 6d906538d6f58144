package dev.jitaccess.api;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * The raw byte pipe of an exec, attach or port-forward connection after kube-apiserver switched protocols.
 * The two directions may be used from two threads.
 *
 * @since 0.1.0
 */
public interface UpgradedConnection extends AutoCloseable {

  /**
   * Bytes from kube-apiserver.
   *
   * @return the input stream
   */
  InputStream fromServer();

  /**
   * Bytes to kube-apiserver.
   *
   * @return the output stream
   */
  OutputStream toServer();

  /** Closes both directions; never throws. */
  @Override
  void close();
}
