package dev.jitaccess.api;

import org.jspecify.annotations.Nullable;

/**
 * A bearer token or credential was not accepted: malformed, wrongly signed, expired, for another audience or
 * issuer, revoked, or too large. The relay answers it with 401.
 *
 * @since 0.1.0
 */
public class AuthenticationException extends JitAccessException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message why the credential was refused (never the credential itself)
   */
  public AuthenticationException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message why the credential was refused (never the credential itself)
   * @param cause the underlying failure, or {@code null}
   */
  public AuthenticationException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
