package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.text.ParseException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Mints tokens for tests, honest and hostile, with nimbus directly. */
final class Forge {
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

  private Forge() {}

  static KeyPair ecKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair rsaKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The private JWK of a key pair, with the same thumbprint kid that KeyRing gives it. */
  static JWK jwk(KeyPair pair) {
    try {
      if (pair.getPublic() instanceof ECPublicKey pub) {
        return new ECKey.Builder(Curve.P_256, pub)
            .privateKey((ECPrivateKey) pair.getPrivate())
            .keyIDFromThumbprint()
            .build();
      }
      return new RSAKey.Builder((RSAPublicKey) pair.getPublic())
          .privateKey((RSAPrivateKey) pair.getPrivate())
          .keyIDFromThumbprint()
          .build();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static JWSSigner signer(JWK key) {
    try {
      return key instanceof ECKey ec ? new ECDSASigner(ec) : new RSASSASigner((RSAKey) key);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static String sign(JWSSigner signer, JWSHeader header, Map<String, Object> claims) {
    return sign(signer, header, new Payload(claims));
  }

  static String signRaw(JWSSigner signer, JWSHeader header, String payloadJson) {
    return sign(signer, header, new Payload(payloadJson));
  }

  private static String sign(JWSSigner signer, JWSHeader header, Payload payload) {
    JWSObject jws = new JWSObject(header, payload);
    try {
      jws.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jws.serialize();
  }

  /** The claims of a token as a mutable map. */
  static Map<String, Object> claims(String token) {
    try {
      return new LinkedHashMap<>(JSONObjectUtils.parse(new Base64URL(token.split("\\.")[1]).decodeToString()));
    } catch (ParseException e) {
      throw new IllegalStateException(e);
    }
  }

  static JWSHeader header(String token) {
    try {
      return JWSHeader.parse(new Base64URL(token.split("\\.")[0]));
    } catch (ParseException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Replaces one character in the middle of a part with another base64url character. */
  static String flipMiddle(String token, int part) {
    String[] parts = token.split("\\.", -1);
    char[] chars = parts[part].toCharArray();
    int i = chars.length / 2;
    chars[i] = ALPHABET.charAt((ALPHABET.indexOf(chars[i]) + 1) % 64);
    parts[part] = new String(chars);
    return String.join(".", parts);
  }

  /** Flips the lowest bit of the last character of a part, which only an unused padding bit may hold. */
  static String flipLastBit(String token, int part) {
    String[] parts = token.split("\\.", -1);
    char[] chars = parts[part].toCharArray();
    int i = chars.length - 1;
    chars[i] = ALPHABET.charAt(ALPHABET.indexOf(chars[i]) ^ 1);
    parts[part] = new String(chars);
    return String.join(".", parts);
  }

  static String b64(String text) {
    return Base64URL.encode(text).toString();
  }

  /** No message in the exception chain contains the token, its signature or its payload. */
  static void assertNoTokenMaterial(Throwable thrown, String token) {
    if (token.isEmpty()) {
      return;
    }
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      assertNoTokenMaterial(String.valueOf(t.getMessage()), token);
    }
  }

  /** The text (a log line, an audit detail) contains neither the token nor any of its parts of 16 or more characters. */
  static void assertNoTokenMaterial(String text, String token) {
    if (token.isEmpty()) {
      return;
    }
    assertThat(text).doesNotContain(token);
    for (String part : token.split("\\.", -1)) {
      if (part.length() >= 16) {
        assertThat(text).doesNotContain(part);
      }
    }
  }
}
