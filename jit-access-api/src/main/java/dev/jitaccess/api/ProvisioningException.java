package dev.jitaccess.api;

import org.jspecify.annotations.Nullable;

/**
 * Provisioning an account in a cluster failed, or was refused before any call because it would be unsafe
 * (a role outside the allow-list, a denied namespace, a name owned by someone else).
 *
 * @since 0.1.0
 */
public class ProvisioningException extends JitAccessException {
  private static final long serialVersionUID = 1L;

  private final int statusCode;
  private final boolean retryable;

  /**
   * Creates an exception.
   *
   * @param message what failed and what to do
   * @param statusCode the HTTP status the cluster answered, or 0 when no call was made or none answered
   * @param retryable whether the same call may succeed later (throttling, server errors, timeouts)
   * @param cause the underlying failure, or {@code null}
   */
  public ProvisioningException(
      String message, int statusCode, boolean retryable, @Nullable Throwable cause) {
    super(message, cause);
    this.statusCode = statusCode;
    this.retryable = retryable;
  }

  /**
   * The HTTP status the cluster answered.
   *
   * @return the status, or 0 when no call was made or none answered
   */
  public int statusCode() {
    return statusCode;
  }

  /**
   * Whether the same request may succeed later.
   *
   * @return true for throttling, server errors and timeouts
   */
  public boolean isRetryable() {
    return retryable;
  }
}
