package dev.jitaccess.k8s.internal;

/**
 * The server did not negotiate {@code h2} with ALPN: the request was not sent, and goes through the HTTP/1.1
 * client instead.
 */
final class NotHttp2Exception extends RuntimeException {
  private static final long serialVersionUID = 1L;

  NotHttp2Exception(String protocol) {
    super("kube-apiserver negotiated " + protocol + ", not h2", null, false, false);
  }
}
