package dev.jitaccess.testkit;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
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
 * A throw-away CA and a server certificate for {@code localhost} and {@code 127.0.0.1}, made with BouncyCastle
 * and
 * exported as PEM, a trusting client {@link SSLContext}, or a PKCS#12 key store (for WireMock's HTTPS). Immutable.
 */
public final class TestCertificates {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final X509Certificate ca;
  private final KeyPair serverKeys;
  private final X509Certificate server;

  private TestCertificates(String name) throws Exception {
    KeyPair caKeys = ecKeys();
    X500Name caName = new X500Name("CN=" + name + " test CA");
    ca = sign(caName, caKeys, caKeys, caName, true);
    serverKeys = ecKeys();
    server = sign(new X500Name("CN=localhost"), serverKeys, caKeys, caName, false);
  }

  /**
   * A fresh CA and its server certificate.
   *
   * @return the material
   */
  public static TestCertificates create() {
    return create("jit-access");
  }

  /**
   * A fresh CA (named for what it serves) and its server certificate.
   *
   * @param name a word for the CA's common name, e.g. {@code relay}
   * @return the material
   */
  public static TestCertificates create(String name) {
    try {
      return new TestCertificates(name);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create test certificates", e);
    }
  }

  /**
   * The server's private key.
   *
   * @return the key
   */
  public PrivateKey serverKey() {
    return serverKeys.getPrivate();
  }

  /**
   * The server certificate chain.
   *
   * @return leaf first, ending with the CA
   */
  public X509Certificate[] serverChain() {
    return new X509Certificate[] {server, ca};
  }

  /**
   * The CA certificate to trust.
   *
   * @return the certificate
   */
  public X509Certificate ca() {
    return ca;
  }

  /**
   * The CA certificate as PEM.
   *
   * @return the PEM text
   */
  public String caPem() {
    return pem(ca);
  }

  /**
   * Writes {@code chain.pem} (leaf, then CA) and {@code key.pem} (PKCS#8) into a directory, for a server in
   * another process.
   *
   * @param dir the directory
   * @throws java.io.UncheckedIOException if the files cannot be written
   */
  public void writeServerPem(Path dir) {
    try {
      Files.writeString(dir.resolve("chain.pem"), pem(server) + pem(ca));
      Files.writeString(
          dir.resolve("key.pem"),
          "-----BEGIN PRIVATE KEY-----\n"
              + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(serverKey().getEncoded())
              + "\n-----END PRIVATE KEY-----\n");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot write the server PEM files into " + dir, e);
    }
  }

  private static String pem(X509Certificate certificate) {
    try {
      return "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certificate.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }


  /**
   * A client TLS context that trusts only this CA.
   *
   * @return the context
   */
  public SSLContext clientContext() {
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Writes the server key and chain as a PKCS#12 key store.
   *
   * @param file where
   * @param password the store and key password
   * @return {@code file}
   */
  public Path writePkcs12(Path file, String password) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("server", serverKey(), password.toCharArray(), serverChain());
      try (OutputStream out = Files.newOutputStream(file)) {
        store.store(out, password.toCharArray());
      }
      return file;
    } catch (Exception e) {
      throw new IllegalStateException("cannot write the key store " + file, e);
    }
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static X509Certificate sign(
      X500Name subject, KeyPair subjectKeys, KeyPair issuerKeys, X500Name issuer, boolean ca) throws Exception {
    Instant now = Instant.now();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            issuer,
            new BigInteger(64, RANDOM).add(BigInteger.ONE),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(1))),
            subject,
            subjectKeys.getPublic());
    if (ca) {
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
