package dev.jitaccess.relay.testing;

import dev.jitaccess.testkit.TestCertificates;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.security.cert.X509Certificate;

/** The testkit's throw-away certificates as Netty TLS contexts, for the tunnel tests. */
public final class TunnelTestCertificates {
  private final TestCertificates certificates;

  private TunnelTestCertificates(TestCertificates certificates) {
    this.certificates = certificates;
  }

  /** Makes a fresh CA and server certificate. */
  public static TunnelTestCertificates create() {
    return new TunnelTestCertificates(TestCertificates.create("jit-access tunnel"));
  }

  /** The CA certificate to trust. */
  public X509Certificate ca() {
    return certificates.ca();
  }

  /** A TLS 1.2/1.3 server context with the server certificate. */
  public SslContext serverContext() {
    try {
      return SslContextBuilder.forServer(certificates.serverKey(), certificates.serverChain())
          .protocols("TLSv1.3", "TLSv1.2")
          .build();
    } catch (Exception e) {
      throw new IllegalStateException("could not build the server TLS context", e);
    }
  }

  /** A client context trusting the CA, without host name verification (for raw test agents). */
  public SslContext clientContext() {
    try {
      return SslContextBuilder.forClient().trustManager(ca()).endpointIdentificationAlgorithm(null).build();
    } catch (Exception e) {
      throw new IllegalStateException("could not build the client TLS context", e);
    }
  }
}
