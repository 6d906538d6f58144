package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE_TOKEN;
import static dev.jitaccess.core.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.Grant;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The warm path remembers a token's grant beside its authentication; every way a grant stops being valid must
 * make the engine look again.
 */
final class JitAccessRememberedGrantTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final Policy policy = new Policy();
  private final JitAccess jit = Fixtures.engine(clock, new Tokens(), policy, new RecordingSink()).build();

  @Test
  void aRememberedGrantIsServedWithoutEvaluatingAgain() {
    Grant first = jit.authorize(ALICE_TOKEN, "prod");

    assertThat(jit.authorize(ALICE_TOKEN, "prod")).isSameAs(first);
    assertThat(jit.authorize(ALICE_TOKEN, "prod")).isSameAs(first);
    assertThat(policy.calls).hasValue(1);
  }

  @Test
  void revokingOneClusterForgetsTheRememberedGrant() {
    Grant first = jit.authorize(ALICE_TOKEN, "prod");
    jit.authorize(ALICE_TOKEN, "prod");

    jit.revoke("alice", "prod");

    assertThat(jit.authorize(ALICE_TOKEN, "prod").id()).isNotEqualTo(first.id());
    assertThat(policy.calls).hasValue(2);
  }

  @Test
  void revokingAnotherSubjectAlsoMakesTheEngineLookAgainButKeepsTheGrant() {
    Grant first = jit.authorize(ALICE_TOKEN, "prod");
    jit.authorize(ALICE_TOKEN, "prod");

    jit.revoke("bob");

    assertThat(jit.authorize(ALICE_TOKEN, "prod")).isEqualTo(first);
    assertThat(policy.calls).hasValue(1);
  }

  @Test
  void anExpiredRememberedGrantIsNeverServed() {
    Grant first = jit.authorize(ALICE_TOKEN, "prod");
    jit.authorize(ALICE_TOKEN, "prod");

    clock.set(first.expiresAt().minusNanos(1));
    assertThat(jit.authorize(ALICE_TOKEN, "prod")).isSameAs(first);
    clock.set(first.expiresAt());

    assertThat(jit.authorize(ALICE_TOKEN, "prod").id()).isNotEqualTo(first.id());
    assertThat(policy.calls).hasValue(2);
  }

  @Test
  void switchingClustersNeverServesTheOtherClustersGrant() {
    Grant prod = jit.authorize(ALICE_TOKEN, "prod");
    Grant staging = jit.authorize(ALICE_TOKEN, "staging");
    clock.advance(Duration.ofSeconds(1));

    assertThat(jit.authorize(ALICE_TOKEN, "prod")).isSameAs(prod);
    assertThat(jit.authorize(ALICE_TOKEN, "staging")).isSameAs(staging);
    assertThat(staging.cluster()).isEqualTo("staging");
  }

  @Test
  void aGrantEvaluatedWhileAnInvalidationRanIsEvaluatedAgain() throws Exception {
    CountDownLatch evaluating = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    policy.answer.set(
        request -> {
          if (policy.calls.get() == 1) {
            evaluating.countDown();
            await(release);
          }
          return Fixtures.VIEW;
        });
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Grant> first = pool.submit(() -> jit.authorize(ALICE_TOKEN, "prod"));
      await(evaluating);

      // An invalidation while alice's grant is being evaluated (here another subject's revoke; in production an
      // approval becoming active) cannot see the entry being computed: the engine must not keep that grant.
      jit.revoke("bob");
      release.countDown();

      Grant granted = first.get(10, TimeUnit.SECONDS);
      assertThat(policy.calls).hasValue(2);
      assertThat(jit.authorize(ALICE_TOKEN, "prod")).isEqualTo(granted);
      assertThat(policy.calls).hasValue(2);
    } finally {
      pool.shutdownNow();
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("timed out waiting for the other thread");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
