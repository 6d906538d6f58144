package dev.jitaccess.benchmarks.relay;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away P-256 CA and one server certificate for {@code localhost} and {@code 127.0.0.1}, made with
 * BouncyCastle (as the relay's tests do). The relay's two listeners and the stub apiserver share it.
 */
final class Certificates {
  private final KeyPair caKeys;
  private final X509Certificate ca;
  private final KeyPair serverKeys;
  private final X509Certificate server;

  private Certificates() throws Exception {
    X500Name caName = new X500Name("CN=jit-access bench CA");
    caKeys = ecKeys();
    ca = sign(caName, caKeys, caKeys, caName, true);
    serverKeys = ecKeys();
    server = sign(new X500Name("CN=localhost"), serverKeys, caKeys, caName, false);
  }

  static Certificates create() {
    try {
      return new Certificates();
    } catch (Exception e) {
      throw new IllegalStateException("cannot create the benchmark certificates", e);
    }
  }

  PrivateKey serverKey() {
    return serverKeys.getPrivate();
  }

  X509Certificate[] serverChain() {
    return new X509Certificate[] {server, ca};
  }

  X509Certificate ca() {
    return ca;
  }

  /** The CA as PEM bytes, for client-java's {@code ApiClient.setSslCaCert}. */
  byte[] caPem() {
    return pem("CERTIFICATE", encoded(ca)).getBytes(StandardCharsets.US_ASCII);
  }

  /** Writes {@code chain.pem} (leaf, CA) and {@code key.pem} (PKCS#8) into {@code dir}, for the stub process. */
  void writeServerPem(Path dir) throws IOException {
    Files.writeString(dir.resolve("chain.pem"), pem("CERTIFICATE", encoded(server)) + pem("CERTIFICATE", encoded(ca)));
    Files.writeString(dir.resolve("key.pem"), pem("PRIVATE KEY", serverKeys.getPrivate().getEncoded()));
  }

  /** A client TLS context that trusts only this CA. */
  SSLContext clientContext() {
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the client TLS context", e);
    }
  }

  private static byte[] encoded(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static X509Certificate sign(
      X500Name subject, KeyPair subjectKeys, KeyPair issuerKeys, X500Name issuer, boolean isCa) throws Exception {
    Instant now = Instant.now();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            issuer,
            BigInteger.valueOf(now.toEpochMilli()).add(BigInteger.valueOf(isCa ? 0 : 1)),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(1))),
            subject,
            subjectKeys.getPublic());
    if (isCa) {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, InetAddress.getLoopbackAddress().getHostAddress())
              }));
    }
    byte[] der =
        builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())).getEncoded();
    return (X509Certificate)
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }
}
