package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE;
import static dev.jitaccess.core.Fixtures.ALICE_TOKEN;
import static dev.jitaccess.core.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuditEvent.Type;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Grant;
import dev.jitaccess.core.Fixtures.BrokenSink;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import org.junit.jupiter.api.Test;

final class JitAccessAuditTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final Tokens tokens = new Tokens();
  private final Policy policy = new Policy();
  private final RecordingSink sink = new RecordingSink();

  @Test
  void grantIsAuditedWithPermissionsTtlAndProvider() {
    JitAccess jit = Fixtures.engine(clock, tokens, policy, sink).build();
    Grant g = jit.authorize(ALICE_TOKEN, "prod");
    jit.authorize(ALICE_TOKEN, "prod"); // a cache hit is the same grant: not audited again

    assertThat(sink.events).singleElement().satisfies(e -> {
      assertThat(e.type()).isEqualTo(Type.GRANTED);
      assertThat(e.time()).isEqualTo(START);
      assertThat(e.subjectId()).isEqualTo("alice");
      assertThat(e.cluster()).isEqualTo("prod");
      assertThat(e.grantId()).isEqualTo(g.id());
      assertThat(e.attributes())
          .containsEntry("permissions", "view@*")
          .containsEntry("ttl", "PT5M")
          .containsEntry("provider", "test-policy");
    });
  }

  @Test
  void denialIsAuditedWithItsReasonAndJustification() {
    JitAccess jit = Fixtures.engine(clock, tokens, policy.answering(Decision.denied("not on call")), sink).build();
    assertThatThrownBy(() -> jit.authorize(new AccessRequest(ALICE, "prod", "hotfix", null)))
        .isInstanceOf(AccessDeniedException.class);
    assertThat(sink.events).singleElement().satisfies(e -> {
      assertThat(e.type()).isEqualTo(Type.DENIED);
      assertThat(e.detail()).isEqualTo("not on call");
      assertThat(e.grantId()).isNull();
      assertThat(e.attributes()).containsEntry("justification", "hotfix").containsEntry("provider", "test-policy");
    });
  }

  @Test
  void policyFailureIsAuditedAsDenialNamingTheFailure() {
    policy.answer.set(r -> {
      throw new IllegalArgumentException("bad rule");
    });
    JitAccess jit = Fixtures.engine(clock, tokens, policy, sink).build();
    assertThatThrownBy(() -> jit.authorize(ALICE_TOKEN, "prod")).isInstanceOf(AccessDeniedException.class);
    assertThat(sink.ofType(Type.DENIED)).singleElement().satisfies(e ->
        assertThat(e.attributes().get("providerFailure")).contains("IllegalArgumentException"));
  }

  @Test
  void expiryIsAuditedOnceWithTheGrantsEndTime() {
    JitAccess jit = Fixtures.engine(clock, tokens, policy, sink).build();
    Grant g = jit.authorize(ALICE_TOKEN, "prod");
    clock.advance(Duration.ofMinutes(5));
    assertThat(jit.activeGrants()).isEmpty();
    jit.activeGrants();

    assertThat(sink.ofType(Type.EXPIRED)).singleElement().satisfies(e -> {
      assertThat(e.grantId()).isEqualTo(g.id());
      assertThat(e.time()).isEqualTo(g.expiresAt());
      assertThat(e.subjectId()).isEqualTo("alice");
    });
  }

  @Test
  void revokedGrantIsNotReportedAsExpired() {
    JitAccess jit = Fixtures.engine(clock, tokens, policy, sink).build();
    jit.authorize(ALICE_TOKEN, "prod");
    jit.revoke("alice");
    clock.advance(Duration.ofHours(1));
    jit.activeGrants();
    assertThat(sink.events).extracting(AuditEvent::type).containsExactly(Type.GRANTED, Type.REVOKED);
  }

  @Test
  void throwingSinkDoesNotBreakAuthorizeAndTheOtherSinkGetsTheEventAndAWarning() {
    BrokenSink broken = new BrokenSink();
    JitAccess jit = JitAccess.builder().clock(clock).identityProvider(tokens).policyProvider(policy)
        .auditSink(broken).auditSink(sink).build();

    Grant g = jit.authorize(ALICE_TOKEN, "prod");

    assertThat(sink.events).extracting(AuditEvent::type).containsExactly(Type.GRANTED, Type.WARNING);
    assertThat(sink.events.get(1)).satisfies(w -> {
      assertThat(w.detail()).contains("broken").contains("GRANTED");
      assertThat(w.grantId()).isEqualTo(g.id());
      assertThat(w.attributes()).containsEntry("sink", "broken");
    });
  }

  @Test
  void failClosedRefusesAGrantNoSinkRecordedAndDoesNotCacheIt() {
    BrokenSink broken = new BrokenSink();
    JitAccess jit = JitAccess.builder().clock(clock).identityProvider(tokens).policyProvider(policy)
        .auditSink(broken).build();

    assertThatThrownBy(() -> jit.authorize(ALICE_TOKEN, "prod"))
        .isInstanceOfSatisfying(AccessDeniedException.class,
            e -> assertThat(e.reason()).startsWith("audit trail unavailable"));
    assertThatThrownBy(() -> jit.authorize(ALICE_TOKEN, "prod")).isInstanceOf(AccessDeniedException.class);
    assertThat(policy.calls).hasValue(2);
    assertThat(jit.activeGrants()).isEmpty();
  }

  @Test
  void failOpenHandsOutTheGrantAnyway() {
    JitAccess jit = JitAccess.builder().clock(clock).identityProvider(tokens).policyProvider(policy)
        .auditSink(new BrokenSink()).auditFailurePolicy(AuditFailurePolicy.FAIL_OPEN).build();
    Grant g = jit.authorize(ALICE_TOKEN, "prod");
    assertThat(jit.activeGrants()).containsExactly(g);
  }

  @Test
  void engineWithoutSinksGrantsWithoutAnAuditTrail() {
    JitAccess jit = JitAccess.builder().clock(clock).identityProvider(tokens).policyProvider(policy).build();
    assertThat(jit.authorize(ALICE_TOKEN, "prod").cluster()).isEqualTo("prod");
  }

  @Test
  void sinkThatRecoversIsUsedAgain() {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    dev.jitaccess.api.spi.AuditSink flaky = e -> {
      if (calls.incrementAndGet() == 1) {
        throw new IllegalStateException("hiccup");
      }
      sink.record(e);
    };
    JitAccess jit = JitAccess.builder().clock(clock).identityProvider(tokens).policyProvider(policy)
        .auditSink(flaky).build();
    assertThatThrownBy(() -> jit.authorize(ALICE_TOKEN, "prod")).isInstanceOf(AccessDeniedException.class);
    Grant g = jit.authorize(ALICE_TOKEN, "prod");
    assertThat(sink.ofType(Type.GRANTED)).extracting(AuditEvent::grantId).containsExactly(g.id());
  }
}
