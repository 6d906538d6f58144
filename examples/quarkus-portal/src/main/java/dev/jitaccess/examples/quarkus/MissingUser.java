package dev.jitaccess.examples.quarkus;

/** No {@code X-Demo-User} header; answered 401 by {@link ErrorMappers}. */
final class MissingUser extends RuntimeException {
  private static final long serialVersionUID = 1L;

  MissingUser() {
    super("send the " + AccessResource.USER_HEADER + " header naming the user (the demo's stand-in for login)");
  }
}
