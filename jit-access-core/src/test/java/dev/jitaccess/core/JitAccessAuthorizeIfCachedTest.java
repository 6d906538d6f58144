package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE_TOKEN;
import static dev.jitaccess.core.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.Grant;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import org.junit.jupiter.api.Test;

/** The non-blocking read the relay's event loop uses: a hit only when authorize would need no provider. */
final class JitAccessAuthorizeIfCachedTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final Tokens tokens = new Tokens();
  private final Policy policy = new Policy();
  private final JitAccess jit = Fixtures.engine(clock, tokens, policy, new RecordingSink()).build();

  @Test
  void emptyUntilAuthorizeRanThenTheSameGrantWithoutAnyProviderCall() {
    assertThat(jit.authorizeIfCached(ALICE_TOKEN, "prod")).isEmpty();
    assertThat(tokens.calls).hasValue(0);

    Grant grant = jit.authorize(ALICE_TOKEN, "prod");

    assertThat(jit.authorizeIfCached(ALICE_TOKEN, "prod")).contains(grant);
    assertThat(jit.authorizeIfCached(ALICE_TOKEN, "staging")).isEmpty();
    assertThat(tokens.calls).hasValue(1);
    assertThat(policy.calls).hasValue(1);
  }

  @Test
  void revocationAndExpiryShowAtOnce() {
    Grant grant = jit.authorize(ALICE_TOKEN, "prod");

    jit.revoke("alice", "prod");
    assertThat(jit.authorizeIfCached(ALICE_TOKEN, "prod")).isEmpty();

    Grant again = jit.authorize(ALICE_TOKEN, "prod");
    clock.set(again.expiresAt());
    assertThat(jit.authorizeIfCached(ALICE_TOKEN, "prod")).isEmpty();
    assertThat(again.id()).isNotEqualTo(grant.id());
  }

  @Test
  void anOversizedTokenIsNeverAHit() {
    assertThat(jit.authorizeIfCached("x".repeat(JitAccess.MAX_TOKEN_LENGTH + 1), "prod")).isEmpty();
  }
}
