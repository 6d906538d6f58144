package dev.jitaccess.k8s.internal;

import io.netty.handler.codec.http2.Http2Error;
import java.io.IOException;

/** kube-apiserver reset an HTTP/2 stream (RST_STREAM), or refused it with GOAWAY before processing it. */
final class Http2ResetException extends IOException {
  private static final long serialVersionUID = 1L;

  /** The HTTP/2 error code. */
  private final long errorCode;

  Http2ResetException(long errorCode, String what) {
    super(what + " with " + name(errorCode));
    this.errorCode = errorCode;
  }

  /** Whether the server said it processed nothing, so a body-less request may be sent again. */
  boolean refused() {
    return errorCode == Http2Error.REFUSED_STREAM.code();
  }

  private static String name(long code) {
    Http2Error error = Http2Error.valueOf(code);
    return error == null ? "error code " + code : error.name();
  }
}
