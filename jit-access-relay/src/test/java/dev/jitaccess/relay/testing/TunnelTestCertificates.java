package dev.jitaccess.relay.testing;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away CA and a server certificate for {@code localhost} and {@code 127.0.0.1}, for the tunnel tests
 * (the user side has its own {@code TestCertificates}).
 */
public final class TunnelTestCertificates {
  private final X509Certificate ca;
  private final X509Certificate server;
  private final PrivateKey serverKey;

  private TunnelTestCertificates(X509Certificate ca, X509Certificate server, PrivateKey serverKey) {
    this.ca = ca;
    this.server = server;
    this.serverKey = serverKey;
  }

  /** Makes a fresh CA and server certificate. */
  public static TunnelTestCertificates create() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(256);
      KeyPair caKeys = generator.generateKeyPair();
      KeyPair serverKeys = generator.generateKeyPair();
      Instant now = Instant.now();
      Date from = Date.from(now.minus(Duration.ofHours(1)));
      Date until = Date.from(now.plus(Duration.ofDays(1)));
      X500Name caName = new X500Name("CN=jit-access tunnel test CA");
      X509v3CertificateBuilder caBuilder =
          new JcaX509v3CertificateBuilder(caName, BigInteger.ONE, from, until, caName, caKeys.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
      var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate());
      X509Certificate ca = converter.getCertificate(caBuilder.build(signer));
      X509v3CertificateBuilder serverBuilder =
          new JcaX509v3CertificateBuilder(
                  caName, BigInteger.TWO, from, until, new X500Name("CN=localhost"), serverKeys.getPublic())
              .addExtension(
                  Extension.subjectAlternativeName,
                  false,
                  new GeneralNames(
                      new GeneralName[] {
                        new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1")
                      }))
              .addExtension(
                  Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      X509Certificate server = converter.getCertificate(serverBuilder.build(signer));
      return new TunnelTestCertificates(ca, server, serverKeys.getPrivate());
    } catch (Exception e) {
      throw new IllegalStateException("could not make test certificates", e);
    }
  }

  /** The CA certificate to trust. */
  public X509Certificate ca() {
    return ca;
  }

  /** A TLS 1.2/1.3 server context with the server certificate. */
  public SslContext serverContext() {
    try {
      return SslContextBuilder.forServer(serverKey, server, ca).protocols("TLSv1.3", "TLSv1.2").build();
    } catch (Exception e) {
      throw new IllegalStateException("could not build the server TLS context", e);
    }
  }

  /** A client context trusting the CA, without host name verification (for raw test agents). */
  public SslContext clientContext() {
    try {
      return SslContextBuilder.forClient().trustManager(ca).endpointIdentificationAlgorithm(null).build();
    } catch (Exception e) {
      throw new IllegalStateException("could not build the client TLS context", e);
    }
  }
}
