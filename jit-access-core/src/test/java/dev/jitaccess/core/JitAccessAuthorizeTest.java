package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE;
import static dev.jitaccess.core.Fixtures.ALICE_TOKEN;
import static dev.jitaccess.core.Fixtures.EDIT;
import static dev.jitaccess.core.Fixtures.START;
import static dev.jitaccess.core.Fixtures.VIEW;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProviderException;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class JitAccessAuthorizeTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final Tokens tokens = new Tokens();
  private final Policy policy = new Policy();
  private final RecordingSink sink = new RecordingSink();
  private final JitAccess jit = Fixtures.engine(clock, tokens, policy, sink).build();
  private ExecutorService pool;

  @AfterEach
  void stopPool() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }

  @Test
  void grantIsCachedForTheGrantTtlAndReEvaluatedJustAfter() {
    Grant first = jit.authorize(ALICE_TOKEN, "prod");
    assertThat(first.expiresAt()).isEqualTo(START.plus(Duration.ofMinutes(5)));
    assertThat(first.permissions()).containsExactly(Permission.clusterWide("view"));

    clock.advance(Duration.ofMinutes(5).minusNanos(1));
    assertThat(jit.authorize(ALICE_TOKEN, "prod")).isSameAs(first);
    assertThat(policy.calls).hasValue(1);

    clock.advance(Duration.ofNanos(2));
    Grant second = jit.authorize(ALICE_TOKEN, "prod");
    assertThat(policy.calls).hasValue(2);
    assertThat(second.id()).isNotEqualTo(first.id());
  }

  @Test
  void policyChangeIsSeenAfterOneTtlAndNotBefore() {
    jit.authorize(ALICE_TOKEN, "prod");
    policy.answering(EDIT);

    clock.advance(Duration.ofMinutes(4));
    assertThat(jit.authorize(ALICE_TOKEN, "prod").permissions()).containsExactly(Permission.clusterWide("view"));

    clock.advance(Duration.ofMinutes(1));
    assertThat(jit.authorize(ALICE_TOKEN, "prod").permissions()).containsExactly(Permission.clusterWide("edit"));
  }

  @Test
  void grantsAreKeyedBySubjectGroupsAndCluster() {
    jit.authorize(AccessRequest.of(ALICE, "prod"));
    jit.authorize(AccessRequest.of(ALICE, "staging"));
    jit.authorize(AccessRequest.of(dev.jitaccess.api.Subject.of("alice", "dev", "admins"), "prod"));
    jit.authorize(AccessRequest.of(ALICE, "prod"));
    assertThat(policy.calls).hasValue(3);
  }

  @Test
  void sixtyFourConcurrentCallersAtExpiryCauseOneEvaluation() throws Exception {
    Grant first = jit.authorize(ALICE_TOKEN, "prod");
    clock.set(first.expiresAt()); // exactly at expiry: the grant is over
    int callers = 64;
    CountDownLatch calling = new CountDownLatch(callers);
    policy.answer.set(
        r -> {
          // Hold the evaluation until every caller has at least reached authorize.
          await(calling);
          return EDIT;
        });
    pool = Executors.newFixedThreadPool(callers);
    List<Future<Grant>> results = new ArrayList<>();
    for (int i = 0; i < callers; i++) {
      results.add(
          pool.submit(
              () -> {
                calling.countDown();
                return jit.authorize(ALICE_TOKEN, "prod");
              }));
    }
    Set<String> ids = new java.util.HashSet<>();
    for (Future<Grant> f : results) {
      ids.add(f.get(30, TimeUnit.SECONDS).id());
    }
    assertThat(policy.calls).hasValue(2);
    assertThat(ids).hasSize(1).doesNotContain(first.id());
  }

  @Test
  void policyExceptionIsADenialWithTheProviderFailureAndIsNotCached() {
    policy.answer.set(
        r -> {
          throw new IllegalStateException("database down");
        });
    assertThatThrownBy(() -> jit.authorize(ALICE_TOKEN, "prod"))
        .isInstanceOfSatisfying(
            AccessDeniedException.class,
            e -> assertThat(e.reason()).contains("test-policy").contains("failed"))
        .cause()
        .isInstanceOfSatisfying(
            ProviderException.class, p -> assertThat(p.providerId()).isEqualTo("test-policy"))
        .cause()
        .hasMessage("database down");

    policy.answering(VIEW);
    assertThat(jit.authorize(ALICE_TOKEN, "prod").permissions()).containsExactly(Permission.clusterWide("view"));
    assertThat(policy.calls).hasValue(2);
  }

  @Test
  void nullDecisionIsADenial() {
    policy.answer.set(r -> null);
    assertThatThrownBy(() -> jit.authorize(ALICE_TOKEN, "prod"))
        .isInstanceOfSatisfying(
            AccessDeniedException.class, e -> assertThat(e.reason()).contains("returned no decision"))
        .hasCauseInstanceOf(ProviderException.class);
    assertThat(jit.activeGrants()).isEmpty();
  }

  @Test
  void policyDenialIsThrownWithItsReasonAndNotCached() {
    policy.answering(Decision.denied("prod needs an on-call shift"));
    assertThatThrownBy(() -> jit.authorize(ALICE_TOKEN, "prod"))
        .isInstanceOfSatisfying(
            AccessDeniedException.class, e -> assertThat(e.reason()).isEqualTo("prod needs an on-call shift"));
    assertThatThrownBy(() -> jit.authorize(ALICE_TOKEN, "prod")).isInstanceOf(AccessDeniedException.class);
    assertThat(policy.calls).hasValue(2);
  }

  @Test
  void engineWithoutPolicyProviderDeniesEverything() {
    JitAccess noPolicy = JitAccess.builder().clock(clock).identityProvider(tokens).build();
    assertThatThrownBy(() -> noPolicy.authorize(ALICE_TOKEN, "prod"))
        .isInstanceOfSatisfying(
            AccessDeniedException.class, e -> assertThat(e.reason()).isEqualTo("no policy provider configured"));
  }

  @Test
  void requestedTtlIsCappedByThePolicyMaxTtl() {
    policy.answering(Decision.granted(Duration.ofMinutes(2), Permission.clusterWide("view")));
    Grant g = jit.authorize(new AccessRequest(ALICE, "prod", null, Duration.ofMinutes(4)));
    assertThat(Duration.between(g.issuedAt(), g.expiresAt())).isEqualTo(Duration.ofMinutes(2));

    clock.advance(Duration.ofMinutes(2).plusNanos(1));
    jit.authorize(AccessRequest.of(ALICE, "prod"));
    assertThat(policy.calls).hasValue(2);
  }

  @Test
  void requestedTtlIsCappedByTheMaxGrantTtlAndDefaultsToTheGrantTtl() {
    Grant longAsk = jit.authorize(new AccessRequest(ALICE, "prod", null, Duration.ofHours(2)));
    assertThat(Duration.between(longAsk.issuedAt(), longAsk.expiresAt())).isEqualTo(Duration.ofMinutes(5));

    Grant shortAsk = jit.authorize(new AccessRequest(ALICE, "staging", null, Duration.ofMinutes(1)));
    assertThat(Duration.between(shortAsk.issuedAt(), shortAsk.expiresAt())).isEqualTo(Duration.ofMinutes(1));

    JitAccess longer =
        Fixtures.engine(clock, tokens, policy, sink).maxGrantTtl(Duration.ofMinutes(30)).build();
    Grant g = longer.authorize(new AccessRequest(ALICE, "prod", null, Duration.ofMinutes(20)));
    assertThat(Duration.between(g.issuedAt(), g.expiresAt())).isEqualTo(Duration.ofMinutes(20));
  }

  @Test
  void justificationIsCarriedIntoTheGrantAndTheAuditRecord() {
    Grant g = jit.authorize(new AccessRequest(ALICE, "prod", "INC-4711 database failover", null));
    assertThat(g.justification()).isEqualTo("INC-4711 database failover");
    assertThat(sink.ofType(dev.jitaccess.api.AuditEvent.Type.GRANTED))
        .singleElement()
        .satisfies(e -> assertThat(e.attributes()).containsEntry("justification", "INC-4711 database failover"));
  }

  @Test
  void policySeesTheRequestAsMade() {
    List<AccessRequest> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    policy.answer.set(
        r -> {
          seen.add(r);
          return VIEW;
        });
    jit.authorize(ALICE_TOKEN, "prod");
    assertThat(seen).containsExactly(AccessRequest.of(ALICE, "prod"));
  }

  @Test
  void grantIdsAreUnique() {
    Set<String> ids =
        java.util.stream.IntStream.range(0, 50)
            .mapToObj(i -> jit.authorize(AccessRequest.of(dev.jitaccess.api.Subject.of("u" + i), "prod")).id())
            .collect(Collectors.toSet());
    assertThat(ids).hasSize(50);
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("callers did not arrive");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
