package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE;
import static dev.jitaccess.core.Fixtures.ALICE_TOKEN;
import static dev.jitaccess.core.Fixtures.BOB_TOKEN;
import static dev.jitaccess.core.Fixtures.START;
import static dev.jitaccess.core.Fixtures.VIEW;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AuditEvent.Type;
import dev.jitaccess.api.Grant;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class JitAccessRevokeTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final Tokens tokens = new Tokens();
  private final Policy policy = new Policy();
  private final RecordingSink sink = new RecordingSink();
  private final JitAccess jit = Fixtures.engine(clock, tokens, policy, sink).build();

  @Test
  void revokeRemovesEveryGrantOfTheSubjectAtOnce() {
    Grant prod = jit.authorize(ALICE_TOKEN, "prod");
    Grant staging = jit.authorize(ALICE_TOKEN, "staging");
    Grant bob = jit.authorize(BOB_TOKEN, "prod");

    jit.revoke("alice");

    assertThat(jit.activeGrants()).containsExactly(bob);
    assertThat(jit.activeGrants("alice")).isEmpty();
    assertThat(sink.ofType(Type.REVOKED)).singleElement().satisfies(e -> {
      assertThat(e.subjectId()).isEqualTo("alice");
      assertThat(e.cluster()).isNull();
      assertThat(e.attributes().get("grants").split(",")).containsExactlyInAnyOrder(prod.id(), staging.id());
    });
  }

  @Test
  void revokeOnOneClusterKeepsTheOthers() {
    jit.authorize(ALICE_TOKEN, "prod");
    Grant staging = jit.authorize(ALICE_TOKEN, "staging");

    jit.revoke("alice", "prod");

    assertThat(jit.activeGrants("alice")).containsExactly(staging);
    assertThat(sink.ofType(Type.REVOKED)).singleElement().satisfies(e -> assertThat(e.cluster()).isEqualTo("prod"));
  }

  @Test
  void grantAfterRevokeIsEvaluatedAndWorksNormally() {
    Grant before = jit.authorize(ALICE_TOKEN, "prod");
    jit.revoke("alice");
    Grant after = jit.authorize(ALICE_TOKEN, "prod"); // same clock instant as the revocation

    assertThat(after.id()).isNotEqualTo(before.id());
    assertThat(policy.calls).hasValue(2);
    assertThat(jit.activeGrants()).containsExactly(after);
  }

  @Test
  void grantWhoseEvaluationRacedWithARevokeIsRefused() throws Exception {
    CountDownLatch evaluating = new CountDownLatch(1);
    CountDownLatch revoked = new CountDownLatch(1);
    policy.answer.set(r -> {
      evaluating.countDown();
      try {
        revoked.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return VIEW;
    });
    CompletableFuture<Grant> pending = CompletableFuture.supplyAsync(() -> jit.authorize(AccessRequest.of(ALICE, "prod")));
    assertThat(evaluating.await(30, TimeUnit.SECONDS)).isTrue();
    jit.revoke("alice", "prod");
    revoked.countDown();

    assertThat(pending).failsWithin(Duration.ofSeconds(30)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingCause().isInstanceOf(AccessDeniedException.class).withMessageContaining("revoked");
    assertThat(jit.activeGrants()).isEmpty();
  }

  @Test
  void activeGrantsListsOnlyUnexpiredGrantsOldestFirst() {
    Grant a = jit.authorize(ALICE_TOKEN, "prod");
    clock.advance(Duration.ofMinutes(1));
    Grant b = jit.authorize(BOB_TOKEN, "prod");
    assertThat(jit.activeGrants()).containsExactly(a, b);

    clock.advance(Duration.ofMinutes(4));
    assertThat(jit.activeGrants()).containsExactly(b);
  }
}
