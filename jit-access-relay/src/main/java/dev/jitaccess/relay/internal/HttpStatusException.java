package dev.jitaccess.relay.internal;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request the relay refuses with a given status and a message for the user. Internal control flow of the user
 * side; never escapes the relay.
 */
public final class HttpStatusException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient HttpResponseStatus status;

  /**
   * Creates the exception.
   *
   * @param status the status to answer with
   * @param message what was wrong, shown to the user (never a credential)
   */
  public HttpStatusException(HttpResponseStatus status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  /**
   * The status to answer with.
   *
   * @return the status
   */
  public HttpResponseStatus status() {
    return status;
  }
}
