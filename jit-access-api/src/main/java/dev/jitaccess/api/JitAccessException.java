package dev.jitaccess.api;

import org.jspecify.annotations.Nullable;

/**
 * The root of every runtime failure jit-access reports. Unchecked.
 *
 * <p>Messages never contain tokens, keys or signatures. Foreign exceptions (I/O, Kubernetes client, JSON) are
 * wrapped with their cause, never thrown as they are.
 *
 * @since 0.1.0
 */
public class JitAccessException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong and what to do
   */
  public JitAccessException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong and what to do
   * @param cause the underlying failure, or {@code null}
   */
  public JitAccessException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
