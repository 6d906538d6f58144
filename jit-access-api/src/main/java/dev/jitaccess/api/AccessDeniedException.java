package dev.jitaccess.api;

import java.util.Objects;

/**
 * An authenticated subject was refused access. The relay answers it with 403 and the {@link #reason()}.
 *
 * @since 0.1.0
 */
public class AccessDeniedException extends JitAccessException {
  private static final long serialVersionUID = 1L;

  private final String reason;

  /**
   * Creates an exception for a denial.
   *
   * @param reason why access was refused, in words the user can act on
   */
  public AccessDeniedException(String reason) {
    super("access denied: " + Objects.requireNonNull(reason, "reason"));
    this.reason = reason;
  }

  /**
   * Why access was refused.
   *
   * @return the denial reason
   */
  public String reason() {
    return reason;
  }
}
