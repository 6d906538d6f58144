package dev.jitaccess.spring.autoconfigure.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.List;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.math.ec.ECMultiplier;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.springframework.boot.ssl.pem.PemContent;

/**
 * Reads keys and certificates from PEM files named by properties. Every error names the property and the file,
 * never the file's content.
 */
public final class PemFiles {
  private PemFiles() {}

  /**
   * Reads a private key (PKCS#8, SEC1 EC or PKCS#1 RSA) and derives its public half.
   *
   * @param file the PEM file
   * @param property the property that named it, for messages
   * @return the key pair
   * @throws IllegalArgumentException if the file cannot be read, holds no private key, or the key is neither
   *     an EC P-256 nor an RSA CRT key
   */
  public static KeyPair keyPair(Path file, String property) {
    PrivateKey key = privateKey(file, property);
    try {
      return new KeyPair(publicKeyOf(key, file, property), key);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          property + ": cannot derive the public key of the private key in " + file, e);
    }
  }

  /**
   * Reads a private key.
   *
   * @param file the PEM file
   * @param property the property that named it
   * @return the key
   * @throws IllegalArgumentException if the file cannot be read or holds no private key
   */
  public static PrivateKey privateKey(Path file, String property) {
    PemContent pem = load(file, property);
    PrivateKey key;
    try {
      key = pem.getPrivateKey();
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException(
          property + ": " + file + " does not hold a readable unencrypted PEM private key", e);
    }
    if (key == null) {
      throw new IllegalArgumentException(
          property + ": " + file + " holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
    }
    return key;
  }

  /**
   * Reads a certificate chain, leaf first.
   *
   * @param file the PEM file
   * @param property the property that named it
   * @return at least one certificate
   * @throws IllegalArgumentException if the file cannot be read or holds no certificate
   */
  public static X509Certificate[] certificates(Path file, String property) {
    PemContent pem = load(file, property);
    List<X509Certificate> chain;
    try {
      chain = pem.getCertificates();
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException(property + ": " + file + " does not hold readable PEM certificates", e);
    }
    if (chain == null || chain.isEmpty()) {
      throw new IllegalArgumentException(
          property + ": " + file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    return chain.toArray(X509Certificate[]::new);
  }

  private static PemContent load(Path file, String property) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(property + ": cannot read " + file.toAbsolutePath());
    }
    try {
      return PemContent.load(file);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(property + ": cannot read " + file.toAbsolutePath(), e);
    }
  }

  private static PublicKey publicKeyOf(PrivateKey key, Path file, String property)
      throws GeneralSecurityException {
    if (key instanceof RSAPrivateCrtKey rsa) {
      return KeyFactory.getInstance("RSA")
          .generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
    }
    if (key instanceof ECPrivateKey ec) {
      // The JDK cannot multiply curve points; Q = d * G with BouncyCastle's curve arithmetic.
      X9ECParameters curve = ECNamedCurveTable.getByName("secp256r1");
      if (!ec.getParams().getOrder().equals(curve.getN())) {
        throw new IllegalArgumentException(
            property + ": the EC key in " + file + " is not on curve P-256 (secp256r1), the only EC curve supported");
      }
      ECMultiplier multiplier = new FixedPointCombMultiplier();
      org.bouncycastle.math.ec.ECPoint q = multiplier.multiply(curve.getG(), ec.getS()).normalize();
      ECPoint point =
          new ECPoint(
              q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
      return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, ec.getParams()));
    }
    throw new IllegalArgumentException(
        property + ": the key in " + file + " is a " + key.getAlgorithm() + " key; use an EC P-256 or an RSA key");
  }
}
