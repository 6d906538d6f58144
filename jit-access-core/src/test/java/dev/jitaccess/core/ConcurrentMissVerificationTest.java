package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.IdentityProvider;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;

/**
 * Many requests missing the caches on one token at the same moment (a user's kubectl fanning out, a relay
 * restart) must cost one signature verification, not one per request: an ES256 verify takes about 0.7 ms, so a
 * stampede would multiply the cold cost by the number of callers.
 */
final class ConcurrentMissVerificationTest {
  private static final int THREADS = 16;
  private static final String ISSUER = "https://idp.example.com/realms/corp";
  private static final String CLIENT = "jit-portal";
  private static final Instant T0 = Instant.parse("2030-01-01T10:00:00Z");
  private static final JWK EC = Forge.jwk(Forge.ecKeyPair());

  private final MutableInstantSource clock = MutableInstantSource.at(T0);

  @Test
  void sixteenThreadsMissingOnOneOidcTokenVerifyItsSignatureExactlyOnce() throws Exception {
    OidcIdentityProvider oidc =
        OidcIdentityProvider.builder()
            .issuer(ISSUER)
            .audience(CLIENT)
            .jwkSet(new JWKSet(EC.toPublicJWK()).toString())
            .clock(clock)
            .build();
    List<Thread> workers = new ArrayList<>();
    CountDownLatch start = new CountDownLatch(1);
    CountDownLatch arrived = new CountDownLatch(THREADS);
    AtomicInteger verifications = new AtomicInteger();
    // Every call of the OIDC provider verifies one signature (it keeps no cache of its own). The first caller
    // holds its verification until all others have arrived and are parked (waiting for it, if the engine
    // coalesces misses) or done, so a stampede cannot hide behind a fast first verification.
    IdentityProvider counting =
        new IdentityProvider() {
          @Override
          public Subject authenticate(String bearerToken) {
            if (verifications.incrementAndGet() == 1) {
              awaitOthersParked(workers, arrived);
            }
            return oidc.authenticate(bearerToken);
          }

          @Override
          public String id() {
            return "counting-oidc";
          }
        };
    Fixtures.Policy policy = new Fixtures.Policy();
    JitAccess engine =
        JitAccess.builder()
            .clock(clock)
            .identityProvider(counting)
            .policyProvider(policy)
            .auditSink(new Fixtures.RecordingSink())
            .build();
    String token = token("alice");

    AtomicReferenceArray<Grant> grants = new AtomicReferenceArray<>(THREADS);
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    for (int i = 0; i < THREADS; i++) {
      int index = i;
      Thread worker =
          new Thread(
              () -> {
                try {
                  start.await();
                  arrived.countDown();
                  grants.set(index, engine.authorize(token, "prod"));
                } catch (Throwable t) {
                  failures.add(t);
                }
              },
              "concurrent-miss-" + i);
      workers.add(worker);
    }
    workers.forEach(Thread::start);
    start.countDown();
    for (Thread worker : workers) {
      worker.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(worker.isAlive()).as("%s finished", worker.getName()).isFalse();
    }

    assertThat(failures).isEmpty();
    assertThat(verifications.get()).as("signature verifications").isEqualTo(1);
    Set<String> grantIds = new HashSet<>();
    for (int i = 0; i < THREADS; i++) {
      assertThat(grants.get(i).subject().id()).isEqualTo("alice");
      grantIds.add(grants.get(i).id());
    }
    assertThat(grantIds).as("one grant shared by all callers").hasSize(1);
    assertThat(policy.calls.get()).as("policy evaluations").isEqualTo(1);

    engine.authorize(token, "prod");
    assertThat(verifications.get()).as("a later call is a cache hit").isEqualTo(1);
  }

  /**
   * Waits until every worker has passed the start gate and every other worker is parked (BLOCKED or WAITING,
   * which inside {@code authorize} means waiting for this thread's verification) or finished. Bounded: after 10
   * seconds it gives up and lets the assertions speak.
   */
  private static void awaitOthersParked(List<Thread> workers, CountDownLatch arrived) {
    try {
      if (!arrived.await(10, TimeUnit.SECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Thread self = Thread.currentThread();
    while (System.nanoTime() < deadline) {
      boolean allParked = true;
      for (Thread worker : workers) {
        Thread.State state = worker.getState();
        if (worker != self && (state == Thread.State.RUNNABLE || state == Thread.State.NEW)) {
          allParked = false;
          break;
        }
      }
      if (allParked) {
        return;
      }
      Thread.yield();
    }
  }

  private static String token(String user) {
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .issuer(ISSUER)
            .audience(CLIENT)
            .subject(user)
            .issueTime(Date.from(T0))
            .expirationTime(Date.from(T0.plusSeconds(300)))
            .claim("groups", List.of("devs"))
            .build();
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT).keyID(EC.getKeyID()).build();
    return Forge.sign(Forge.signer(EC), header, claims.toJSONObject());
  }
}
