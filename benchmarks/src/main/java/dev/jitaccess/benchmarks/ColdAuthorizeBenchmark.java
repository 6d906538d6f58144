package dev.jitaccess.benchmarks;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.jitaccess.api.Grant;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.core.OidcIdentityProvider;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.security.GeneralSecurityException;
import java.text.ParseException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The cold path: {@link JitAccess#authorize(String, String)} where every call misses both caches — a real
 * {@link OidcIdentityProvider} on a static JWK set verifies the token, the policy grants, the grant is cached and
 * audited — against bare nimbus: {@code SignedJWT.parse}, {@code verify} with a verifier built once, {@code
 * getJWTClaimsSet()} and reading sub, iss, aud and exp of the same kind of token.
 *
 * <p>Misses, explicitly: {@link #POOL} tokens for distinct users are minted once per trial. A fresh engine is
 * built at the start of every iteration, and again whenever the pool has been used up within an iteration
 * (so no token is ever presented twice to the same engine). That rebuild happens inside the measured method
 * once every {@link #POOL} calls; it is cheap (the engine's signing key is pre-generated) and amortized over the
 * pool, well under 1% of the cold path. The baseline simply walks the same pool.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
public class ColdAuthorizeBenchmark {

  /** Distinct tokens (and users) per trial. */
  public static final int POOL = 4096;

  /** The identity provider's key, the token pool, the engine. */
  @State(Scope.Thread)
  public static class Cold {
    /** The identity provider's signature algorithm. */
    @Param({"ES256", "RS256"})
    public String algorithm;

    String[] tokens;
    JWSVerifier verifier;
    JitAccess.Builder engines;
    JitAccess engine;
    int next;
    long engineBuilds;

    /** Mints the pool and prepares the engine builder. */
    @Setup(Level.Trial)
    public void setUp() throws GeneralSecurityException {
      JWK key = BenchmarkSupport.newKey(algorithm);
      JWSSigner signer = BenchmarkSupport.signer(key);
      tokens = new String[POOL];
      for (int i = 0; i < POOL; i++) {
        tokens[i] = BenchmarkSupport.oidcToken(key, signer, BenchmarkSupport.user(i), Duration.ofHours(4));
      }
      verifier = BenchmarkSupport.verifier(key);
      OidcIdentityProvider oidc =
          OidcIdentityProvider.builder()
              .issuer(BenchmarkSupport.ISSUER)
              .audience(BenchmarkSupport.AUDIENCE)
              .jwkSet(BenchmarkSupport.publicJwks(key))
              .build();
      engines =
          JitAccess.builder()
              .identityProvider(oidc)
              .policyProvider(BenchmarkSupport.GRANT_ALL)
              .auditSink(BenchmarkSupport.DISCARD)
              .signingKey(engineKey());
    }

    /** A fresh engine (empty caches) for every iteration. */
    @Setup(Level.Iteration)
    public void freshEngine() {
      engine = engines.build();
      next = 0;
    }

    JitAccess engineForNextToken() {
      if (next == POOL) {
        engine = engines.build(); // pool used up: a fresh engine keeps every call a miss
        next = 0;
        engineBuilds++;
      }
      return engine;
    }

    String nextToken() {
      return tokens[next++];
    }

    int nextBaselineIndex() {
      int i = next;
      next = i + 1 == POOL ? 0 : i + 1;
      return i;
    }

    private static KeyPair engineKey() throws GeneralSecurityException {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    }
  }

  /** The engine, both caches missing. */
  @Benchmark
  public Grant authorize(Cold s) {
    JitAccess engine = s.engineForNextToken();
    return engine.authorize(s.nextToken(), BenchmarkSupport.CLUSTER);
  }

  /** Bare nimbus: parse, verify, claims, read sub/iss/aud/exp. */
  @Benchmark
  public void baseline(Cold s, Blackhole bh) throws ParseException, JOSEException {
    SignedJWT jwt = SignedJWT.parse(s.tokens[s.nextBaselineIndex()]);
    if (!jwt.verify(s.verifier)) {
      throw new IllegalStateException("signature did not verify");
    }
    JWTClaimsSet claims = jwt.getJWTClaimsSet();
    bh.consume(claims.getSubject());
    bh.consume(claims.getIssuer());
    bh.consume(claims.getAudience());
    bh.consume(claims.getExpirationTime());
  }
}
