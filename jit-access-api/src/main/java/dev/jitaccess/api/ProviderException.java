package dev.jitaccess.api;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A pluggable provider (identity, policy, audit) failed. The engine never turns such a failure into a grant:
 * it denies (fails closed).
 *
 * @since 0.1.0
 */
public class ProviderException extends JitAccessException {
  private static final long serialVersionUID = 1L;

  private final String providerId;

  /**
   * Creates an exception for a failed provider.
   *
   * @param providerId the failing provider's id
   * @param message what failed
   * @param cause the provider's exception, or {@code null}
   */
  public ProviderException(String providerId, String message, @Nullable Throwable cause) {
    super(Objects.requireNonNull(providerId, "providerId") + ": " + message, cause);
    this.providerId = providerId;
  }

  /**
   * The failing provider.
   *
   * @return its id
   */
  public String providerId() {
    return providerId;
  }
}
