package dev.jitaccess.core.internal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The engine's signing keys: one current key signs, retired keys stay in {@link #publicJwks()} until everything
 * they signed has expired (plus the clock skew), so rotation never breaks a token in flight.
 *
 * <p>ES256 on P-256 by default; RSA key pairs (2048 bits or more) sign with RS256. Key ids are RFC 7638
 * thumbprints. Thread-safe.
 */
public final class KeyRing implements TokenIssuer {

  /** The clock skew tolerated everywhere, in core and agent alike. */
  public static final Duration CLOCK_SKEW = Duration.ofSeconds(60);

  /** The audience of agent credentials: the relay's tunnel listener. */
  public static final String AGENT_AUDIENCE = "jit-access-tunnel";

  /** Claim: the granted permissions, a list of objects {@code {"role": r, "ns": n}}; ns absent = cluster-wide. */
  public static final String PERMISSIONS_CLAIM = "perms";

  /** Claim: the subject's groups, a list of strings. */
  public static final String GROUPS_CLAIM = "groups";

  /** Claim: the justification, a string, absent when none. */
  public static final String JUSTIFICATION_CLAIM = "just";

  /** Claim: the cluster id of an agent credential. */
  public static final String CLUSTER_CLAIM = "cluster";

  /** The subject prefix of an agent credential. */
  public static final String AGENT_SUBJECT_PREFIX = "agent:";

  private final String issuer;
  private final String sessionAudience;
  private final InstantSource clock;
  private final AtomicReference<Entry> current;
  private final List<Entry> retired = new CopyOnWriteArrayList<>();

  private KeyRing(String issuer, String sessionAudience, InstantSource clock, Entry first) {
    this.issuer = Objects.requireNonNull(issuer, "issuer");
    this.sessionAudience = Objects.requireNonNull(sessionAudience, "sessionAudience");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.current = new AtomicReference<>(first);
  }

  /** A key ring with a freshly generated P-256 key. */
  public static KeyRing generate(String issuer, String sessionAudience, InstantSource clock) {
    return new KeyRing(issuer, sessionAudience, clock, Entry.of(newEcKey()));
  }

  /** A key ring that signs with the given key pair (EC P-256 or RSA of 2048 bits or more). */
  public static KeyRing of(String issuer, String sessionAudience, InstantSource clock, KeyPair keyPair) {
    return new KeyRing(issuer, sessionAudience, clock, Entry.of(toJwk(keyPair)));
  }

  public String issuer() {
    return issuer;
  }

  public String sessionAudience() {
    return sessionAudience;
  }

  @Override
  public String signGrant(Grant grant) {
    List<Map<String, Object>> perms = new ArrayList<>();
    for (Permission p : grant.permissions()) {
      Map<String, Object> perm = new LinkedHashMap<>();
      perm.put("role", p.clusterRole());
      if (p.namespace() != null) {
        perm.put("ns", p.namespace());
      }
      perms.add(perm);
    }
    JWTClaimsSet.Builder claims =
        base(grant.subject().id(), grant.cluster(), grant.id(), grant.issuedAt(), grant.expiresAt())
            .claim(PERMISSIONS_CLAIM, perms)
            .claim(GROUPS_CLAIM, List.copyOf(grant.subject().groups()));
    if (grant.justification() != null) {
      claims.claim(JUSTIFICATION_CLAIM, grant.justification());
    }
    return sign(GRANT_TYPE, claims.build(), grant.expiresAt());
  }

  @Override
  public String signSessionToken(Subject subject, String tokenId, Instant issuedAt, Instant expiresAt) {
    JWTClaimsSet claims =
        base(subject.id(), sessionAudience, tokenId, issuedAt, expiresAt)
            .claim(GROUPS_CLAIM, List.copyOf(subject.groups()))
            .build();
    return sign(SESSION_TYPE, claims, expiresAt);
  }

  @Override
  public String signAgentCredential(String cluster, String tokenId, Instant issuedAt, Instant expiresAt) {
    JWTClaimsSet claims =
        base(AGENT_SUBJECT_PREFIX + cluster, AGENT_AUDIENCE, tokenId, issuedAt, expiresAt)
            .claim(CLUSTER_CLAIM, cluster)
            .build();
    return sign(AGENT_TYPE, claims, expiresAt);
  }

  @Override
  public String publicJwks() {
    return publicKeys().toString(true);
  }

  /** The public keys that still verify something: the current key and retired keys with live tokens. */
  public JWKSet publicKeys() {
    Instant now = clock.instant();
    retired.removeIf(e -> !e.stillNeeded(now));
    List<JWK> keys = new ArrayList<>();
    keys.add(current.get().key.toPublicJWK());
    for (Entry e : retired) {
      keys.add(e.key.toPublicJWK());
    }
    return new JWKSet(keys);
  }

  @Override
  public void rotate() {
    Entry old = current.getAndSet(Entry.of(newEcKey()));
    if (old.stillNeeded(clock.instant())) {
      retired.add(old);
    }
  }

  private JWTClaimsSet.Builder base(
      String subject, String audience, String id, Instant issuedAt, Instant expiresAt) {
    return new JWTClaimsSet.Builder()
        .issuer(issuer)
        .subject(subject)
        .audience(audience)
        .jwtID(id)
        .issueTime(Date.from(issuedAt))
        .notBeforeTime(Date.from(issuedAt))
        .expirationTime(Date.from(expiresAt));
  }

  private String sign(String type, JWTClaimsSet claims, Instant expiresAt) {
    Entry entry = current.get();
    entry.signedUntil(expiresAt);
    JWSHeader header =
        new JWSHeader.Builder(entry.algorithm)
            .type(new JOSEObjectType(type))
            .keyID(entry.key.getKeyID())
            .build();
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(entry.signer);
    } catch (JOSEException e) {
      throw new JitAccessException("could not sign a " + type + " token", e);
    }
    return jwt.serialize();
  }

  private static JWK newEcKey() {
    try {
      return new ECKeyGenerator(Curve.P_256)
          .keyUse(KeyUse.SIGNATURE)
          .algorithm(JWSAlgorithm.ES256)
          .keyIDFromThumbprint(true)
          .generate();
    } catch (JOSEException e) {
      throw new JitAccessException("could not generate a P-256 signing key", e);
    }
  }

  private static JWK toJwk(KeyPair pair) {
    Objects.requireNonNull(pair, "keyPair");
    try {
      if (pair.getPublic() instanceof ECPublicKey pub && pair.getPrivate() instanceof ECPrivateKey priv) {
        Curve curve = Curve.forECParameterSpec(pub.getParams());
        if (!Curve.P_256.equals(curve)) {
          throw new IllegalArgumentException("EC signing keys must be on P-256 but was " + curve);
        }
        return new ECKey.Builder(curve, pub)
            .privateKey(priv)
            .keyUse(KeyUse.SIGNATURE)
            .algorithm(JWSAlgorithm.ES256)
            .keyIDFromThumbprint()
            .build();
      }
      if (pair.getPublic() instanceof RSAPublicKey pub && pair.getPrivate() instanceof RSAPrivateKey priv) {
        if (pub.getModulus().bitLength() < 2048) {
          throw new IllegalArgumentException(
              "RSA signing keys must have at least 2048 bits but had " + pub.getModulus().bitLength());
        }
        return new RSAKey.Builder(pub)
            .privateKey(priv)
            .keyUse(KeyUse.SIGNATURE)
            .algorithm(JWSAlgorithm.RS256)
            .keyIDFromThumbprint()
            .build();
      }
    } catch (JOSEException e) {
      throw new IllegalArgumentException("could not use the signing key pair: " + e.getMessage(), e);
    }
    throw new IllegalArgumentException(
        "signing key pair must be EC P-256 or RSA but was " + pair.getPublic().getAlgorithm());
  }

  /** One key with its signer and the latest expiry of anything it signed. */
  private static final class Entry {
    final JWK key;
    final JWSAlgorithm algorithm;
    final JWSSigner signer;
    final AtomicReference<Instant> lastExpiry = new AtomicReference<>(Instant.MIN);

    private Entry(JWK key, JWSAlgorithm algorithm, JWSSigner signer) {
      this.key = key;
      this.algorithm = algorithm;
      this.signer = signer;
    }

    static Entry of(JWK key) {
      try {
        if (key instanceof ECKey ec) {
          return new Entry(key, JWSAlgorithm.ES256, new ECDSASigner(ec));
        }
        return new Entry(key, JWSAlgorithm.RS256, new RSASSASigner((RSAKey) key));
      } catch (JOSEException e) {
        throw new IllegalArgumentException("could not create a signer: " + e.getMessage(), e);
      }
    }

    void signedUntil(Instant expiry) {
      lastExpiry.accumulateAndGet(expiry, (a, b) -> a.isAfter(b) ? a : b);
    }

    boolean stillNeeded(Instant now) {
      return now.isBefore(lastExpiry.get().plus(CLOCK_SKEW));
    }
  }
}
