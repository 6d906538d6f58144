package dev.jitaccess.examples.quickstart;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The relay's throw-away TLS identity for the demo: a CA made for this run (its key is forgotten once the
 * server certificate is signed) and a server certificate for {@code localhost} and the loopback address, both
 * valid for a day. The kubeconfigs the relay writes carry the CA, so kubectl verifies the relay.
 */
final class DemoCertificates {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final X509Certificate ca;
  private final KeyPair serverKeys;
  private final X509Certificate server;

  private DemoCertificates(Instant now) throws GeneralSecurityException, OperatorCreationException, IOException {
    KeyPair caKeys = ecKeys();
    X500Name caName = new X500Name("CN=jit-access demo CA");
    ca = sign(caName, caKeys, caKeys, caName, true, now);
    serverKeys = ecKeys();
    server = sign(new X500Name("CN=localhost"), serverKeys, caKeys, caName, false, now);
  }

  /** A fresh CA and server certificate, valid from an hour ago for one day. */
  static DemoCertificates create(Instant now) {
    try {
      return new DemoCertificates(now);
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot create the relay's demo certificate", e);
    }
  }

  PrivateKey serverKey() {
    return serverKeys.getPrivate();
  }

  /** Leaf first, ending with the CA (the relay puts the last one into kubeconfigs). */
  X509Certificate[] serverChain() {
    return new X509Certificate[] {server, ca};
  }

  X509Certificate ca() {
    return ca;
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static X509Certificate sign(
      X500Name subject, KeyPair subjectKeys, KeyPair issuerKeys, X500Name issuer, boolean isCa, Instant now)
      throws GeneralSecurityException, OperatorCreationException, IOException {
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            issuer,
            new BigInteger(64, RANDOM).add(BigInteger.ONE),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(1))),
            subject,
            subjectKeys.getPublic());
    if (isCa) {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
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
