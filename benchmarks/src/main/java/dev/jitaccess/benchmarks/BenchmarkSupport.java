package dev.jitaccess.benchmarks;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.spi.AuditSink;
import dev.jitaccess.api.spi.PolicyProvider;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * Keys, tokens, a trivial policy and a no-op audit sink shared by the benchmarks. Everything here runs in
 * {@code @Setup}, never in a measured method.
 */
final class BenchmarkSupport {
  static final String ISSUER = "https://idp.example.com";
  static final String AUDIENCE = "jit-portal";
  static final String CLUSTER = "prod-eu-1";

  /** One permission, granted for longer than any run. */
  static final Decision.Granted VIEW = Decision.granted(Duration.ofHours(8), Permission.clusterWide("view"));

  /** Grants {@link #VIEW} to everyone. */
  static final PolicyProvider GRANT_ALL =
      new PolicyProvider() {
        @Override
        public Decision evaluate(dev.jitaccess.api.AccessRequest request) {
          return VIEW;
        }

        @Override
        public String id() {
          return "grant-all";
        }
      };

  /** Accepts and drops every event, as the cheapest real sink would. */
  static final AuditSink DISCARD =
      new AuditSink() {
        @Override
        public void record(AuditEvent event) {
          // dropped on purpose: the benchmarks measure the engine, not a sink
        }

        @Override
        public String id() {
          return "discard";
        }
      };

  private BenchmarkSupport() {}

  /** A signing key of the identity provider: "ES256" (P-256) or "RS256" (RSA 2048). */
  static JWK newKey(String algorithm) {
    try {
      return switch (algorithm) {
        case "ES256" -> new ECKeyGenerator(Curve.P_256).keyUse(KeyUse.SIGNATURE).keyIDFromThumbprint(true)
            .algorithm(JWSAlgorithm.ES256).generate();
        case "RS256" -> new RSAKeyGenerator(2048).keyUse(KeyUse.SIGNATURE).keyIDFromThumbprint(true)
            .algorithm(JWSAlgorithm.RS256).generate();
        default -> throw new IllegalArgumentException("algorithm must be ES256 or RS256 but was " + algorithm);
      };
    } catch (JOSEException e) {
      throw new IllegalStateException("could not generate a " + algorithm + " key", e);
    }
  }

  /** The public JWK set JSON of the key, as an identity provider publishes it. */
  static String publicJwks(JWK key) {
    return new JWKSet(key.toPublicJWK()).toString(true);
  }

  /** A signer for the key. */
  static JWSSigner signer(JWK key) {
    try {
      return key instanceof ECKey ec ? new ECDSASigner(ec) : new RSASSASigner((RSAKey) key);
    } catch (JOSEException e) {
      throw new IllegalStateException("could not make a signer", e);
    }
  }

  /** A verifier for the key's public half, built once: what a bare nimbus user would keep. */
  static JWSVerifier verifier(JWK key) {
    try {
      return key instanceof ECKey ec
          ? new ECDSAVerifier(ec.toPublicJWK().toECKey())
          : new RSASSAVerifier(key.toPublicJWK().toRSAKey());
    } catch (JOSEException e) {
      throw new IllegalStateException("could not make a verifier", e);
    }
  }

  /**
   * An OIDC ID token for {@code user}, shaped like a real one (iss, sub, aud, exp, iat, nbf, groups, email),
   * valid from a minute ago for {@code lifetime}.
   */
  static String oidcToken(JWK key, JWSSigner signer, String user, Duration lifetime) {
    Instant now = Instant.now();
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .issuer(ISSUER)
            .subject(user)
            .audience(AUDIENCE)
            .issueTime(Date.from(now.minusSeconds(60)))
            .notBeforeTime(Date.from(now.minusSeconds(60)))
            .expirationTime(Date.from(now.plus(lifetime)))
            .claim("groups", List.of("developers", "oncall"))
            .claim("email", user + "@example.com")
            .build();
    JWSHeader header =
        new JWSHeader.Builder((JWSAlgorithm) key.getAlgorithm()).type(JOSEObjectType.JWT).keyID(key.getKeyID()).build();
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("could not sign a token", e);
    }
    return jwt.serialize();
  }

  /** The distinct user name number {@code i}, as an identity provider would hand out. */
  static String user(int i) {
    return String.format("user-%05d", i);
  }
}
