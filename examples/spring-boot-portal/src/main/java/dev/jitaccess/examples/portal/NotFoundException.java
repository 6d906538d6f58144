package dev.jitaccess.examples.portal;

import java.io.Serial;

/** Something the caller named does not exist; answered with 404. */
public final class NotFoundException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was not found
   */
  public NotFoundException(String message) {
    super(message);
  }
}
