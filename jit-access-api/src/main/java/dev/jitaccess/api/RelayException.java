package dev.jitaccess.api;

import org.jspecify.annotations.Nullable;

/**
 * The relay or its tunnel failed: the agent is not connected, the tunnel dropped mid-request, or a request
 * was malformed or hostile.
 *
 * @since 0.1.0
 */
public class RelayException extends JitAccessException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong and what to do
   */
  public RelayException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong and what to do
   * @param cause the underlying failure, or {@code null}
   */
  public RelayException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
