package dev.jitaccess.examples.quarkus;

/** A request the portal cannot use; answered 400 by {@link ErrorMappers}. */
final class BadRequest extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BadRequest(String message) {
    super(message);
  }
}
