package dev.jitaccess.benchmarks;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.core.JitAccess;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * {@link GrantVerifier#verify(String)} as the agent runs it on every request: a grant presented again (its
 * signature was checked once and is remembered) against a grant seen for the first time (full verification,
 * ES256).
 *
 * <p>{@code first} walks a pool of {@link #POOL} distinct signed grants with a verifier that has not seen them:
 * a fresh verifier is built every iteration and again whenever the pool is used up (inside the measured method,
 * once every {@link #POOL} calls; parsing the JWKS is negligible against {@link #POOL} signature checks).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
public class GrantVerifierBenchmark {

  /** Distinct signed grants per trial. */
  public static final int POOL = 4096;

  /** The signed grants and the verifiers. */
  @State(Scope.Thread)
  public static class Grants {
    String[] signed;
    String jwks;
    String issuer;
    GrantVerifier warmVerifier;
    GrantVerifier freshVerifier;
    int next;

    /** Signs the pool with a real engine and warms the verifier used by {@code repeated}. */
    @Setup(Level.Trial)
    public void setUp() {
      JitAccess engine =
          JitAccess.builder()
              .policyProvider(BenchmarkSupport.GRANT_ALL)
              .auditSink(BenchmarkSupport.DISCARD)
              .grantTtl(Duration.ofHours(1))
              .build();
      signed = new String[POOL];
      for (int i = 0; i < POOL; i++) {
        Grant grant =
            engine.authorize(AccessRequest.of(Subject.of(BenchmarkSupport.user(i), "developers"),
                BenchmarkSupport.CLUSTER));
        signed[i] = engine.signGrant(grant);
      }
      jwks = engine.publicJwks();
      issuer = engine.issuer();
      warmVerifier = newVerifier();
      warmVerifier.verify(signed[0]);
    }

    /** A verifier that has seen none of the pool. */
    @Setup(Level.Iteration)
    public void freshVerifier() {
      freshVerifier = newVerifier();
      next = 0;
    }

    GrantVerifier verifierForNextGrant() {
      if (next == POOL) {
        freshVerifier = newVerifier();
        next = 0;
      }
      return freshVerifier;
    }

    private GrantVerifier newVerifier() {
      return GrantVerifier.builder().jwks(jwks).issuer(issuer).cluster(BenchmarkSupport.CLUSTER).build();
    }
  }

  /** The same grant again: remembered, no signature check. */
  @Benchmark
  public Grant repeated(Grants g) {
    return g.warmVerifier.verify(g.signed[0]);
  }

  /** A grant this verifier has not seen: full verification. */
  @Benchmark
  public Grant first(Grants g) {
    GrantVerifier verifier = g.verifierForNextGrant();
    return verifier.verify(g.signed[g.next++]);
  }
}
